"""The ground floor: what every floor shares that is not a collector.

`common.errors` (the base of the error hierarchy), `common.schema` (the strict YAML schema
machinery behind the config and the policy files), `common.secrets` (reading a secret file) and
`common.text` (bytes from Chinese gear and Excel into text). It imports nothing of hostward's
other packages; everything else may import it.
"""
