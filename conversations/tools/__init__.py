"""Tools the model may call: the registry (`registry`) and the built-in tools (`builtin`)."""

from .registry import REGISTRY, Tool, ToolContext, build_tool, run, specs, tool

__all__ = ["REGISTRY", "Tool", "ToolContext", "build_tool", "run", "specs", "tool"]
