"""The token people can build: BOM, pin map, schematic, power design and battery budget.

Each module is also a small command (run from the repository root):
``python -m hardware.bom`` (totals), ``python -m hardware.battery`` (battery budget and plot),
``python -m hardware.drift`` (clock drift), ``python -m hardware.schematic`` (SVG and wiring table).
They rewrite their own marked block of docs/hardware.md, so the guide always shows what the scripts compute.
"""
