"""Simulated SMETS1 service providers: one estate core, two head-end protocols."""
