"""syncd's configuration: one YAML file, validated, with secrets resolved from references."""

from syncd.config.flows import FLOW_NAMES, FlowConfig, MappedFlowConfig
from syncd.config.loader import STORE_URL_ENV, load_config, parse_config
from syncd.config.model import DEFAULT_STORE_URL, Config, mask_url

__all__ = [
    "DEFAULT_STORE_URL",
    "FLOW_NAMES",
    "STORE_URL_ENV",
    "Config",
    "FlowConfig",
    "MappedFlowConfig",
    "load_config",
    "mask_url",
    "parse_config",
]
