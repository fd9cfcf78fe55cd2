"""Helpers shaped like litellm.utils; two calls its type checkers flag (mypy and pyright)."""

from typing import Optional

MODEL_COST = {"gpt-4o": {"max_tokens": 128000, "input_cost_per_token": 0.0000025}}


def get_model_info(model: str) -> dict:
    return MODEL_COST.get(model, {"max_tokens": 4096, "input_cost_per_token": 0.0})


def get_max_tokens(model: Optional[str]) -> int:
    return get_model_info(model)["max_tokens"]


def completion_cost(model: str, prompt_tokens: int) -> float:
    return prompt_tokens * get_model_info(model)["input_cost_per_token"] or "0"
