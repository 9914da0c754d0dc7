"""The default field mappings shipped with syncd (YAML files beside this module)."""
