"""Printable reports for people who sign things: the daily inspection record of one host
(ROOM-3, `report daily`) and the fleet's compliance at a point in time read from Prometheus
(`report fleet`). Both are self-contained HTML (inline CSS, no scripts), zh or en, A4 print.

Kept light: importing this package loads nothing; the fleet client (urllib) is imported only
by the `report fleet` command.
"""
