"""The status page: one self-contained HTML page (zh and en) built from registered sections."""
