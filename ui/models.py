"""The Models tab: one compact comparison table, then every model card, folded."""
from __future__ import annotations

import gradio as gr

from dae import MODELS, summary
from dae.training import read_card

from .context import Context


def _card_markdown(ctx: Context, name: str) -> str:
    """A model card as a two-column table (field, value) and its architecture, folded."""
    spec = MODELS[name]
    head = f"{spec.description}\n\n*From:* {spec.tutorial}."
    if name in ctx.lab.unavailable:
        return f"{head}\n\n**Unavailable:** {ctx.lab.unavailable[name]}"
    card = read_card(name, ctx.weights_dir)
    if not card:
        return f"{head}\n\nNo model card found."
    t = card["training"]
    steps = f", {t['steps']} steps" if t.get("steps") else ""
    val = ", ".join(f"{k}: {v['psnr']} dB" + (f" / {v['ssim']}" if "ssim" in v else "")
                    for k, v in card["validation"].items())
    minutes = t.get("total_wall_time_s", t["wall_time_s"]) / 60
    rows = [
        ("parameters", f"{card['parameters']:,}"),
        ("data", card["data"]["source"]),
        ("corruption", card["corruption"]),
        ("differs from the tutorial", card["differs_from_tutorial"]),
        ("training", f"{t.get('total_epochs', t['epochs'])} epochs{steps}, batch {t['batch_size']}, last lr "
                     f"{t['learning_rate']}, {t['loss']} loss, {minutes:.0f} min on {card['made']['machine']}"
                     f"{' (several stages)' if 'continued_from' in t else ''}"),
        ("validation", val),
        ("made with", f"`{card['made']['command']}` ({card['made']['date']}) {t.get('note', '')}"),
    ]
    table = "| field | value |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)
    return (f"{head}\n\n{table}\n\n<details><summary>architecture</summary>\n\n```\n"
            + "\n".join(card["architecture"]) + "\n```\n</details>")


def build(ctx: Context) -> None:
    """The table from ``dae.summary`` (every figure read from where it was measured), then cards."""
    gr.Markdown("Every figure below is read from the model cards and `benchmarks/results/` "
                "(ms: `python benchmarks/speed.py`, one digit per call; quality: `python -m dae.bench`, "
                "1,000 held-out digits).")
    rows = summary.model_rows(ctx.weights_dir)
    table = "| " + " | ".join(summary.COLUMNS) + " |\n|" + "---|" * len(summary.COLUMNS) + "\n"
    table += "\n".join("| " + " | ".join(r[c] for c in summary.COLUMNS) + " |" for r in rows)
    gr.Markdown(table, elem_id="model-table")
    for name, spec in MODELS.items():
        with gr.Accordion(f"{name} ({spec.kind}): model card", open=False):
            gr.Markdown(_card_markdown(ctx, name))
