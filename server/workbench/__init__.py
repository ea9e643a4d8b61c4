"""The officers' workbench: a live alert inbox, customer pages, dispositions and KPIs in ``riskwatch serve``."""
