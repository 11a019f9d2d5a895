"""The Gradio page: one module per tab, assets (CSS, JS, vendored runtime) beside them.

``app.py`` builds one :class:`ui.context.Context` and hands it to each tab's ``build``.
No maths lives here: every number on the page comes from ``dae``.
"""
