"""Closed-loop simulation of a rules package: plant model, weather, trend, KPIs and report."""
