"""Cards: the guideline's decisions worded with the templates in ``cards/``."""
