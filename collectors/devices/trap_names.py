"""The label values of the trap counters, apart from the codec: the exporter reads them
without importing the SNMP codec and its ciphers (an agent without traps never loads them)."""

# Received-trap kinds (the `kind` label of hostward_traps_received_total).
KINDS = ("on_battery", "battery_low", "battery_ok", "ups_alarm", "ups_test", "link_down", "link_up",
         "cold_start", "warm_start", "other")  # fmt: skip
# Drop reasons (the `reason` label of hostward_traps_dropped_total).
REASONS = ("malformed", "unknown_source", "bad_community", "unauthenticated", "security_level",
           "decryption_failed", "not_in_time_window", "unsupported", "rate_limited",
           "queue_full")  # fmt: skip
