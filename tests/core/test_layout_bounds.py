"""Layout counts out of range get one message form: the argument and its domain (the library
names the argument, ``predict(): pp``; the CLI its flag, ``--pp``)."""

from __future__ import annotations

import pytest

from infercost.errors import InputError
from infercost.predict import predict


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"num_nodes": 0},
            "predict(): num_nodes must be a whole number in [1, 4,096] nodes, got 0.",
        ),
        ({"pp": 0}, "predict(): pp must be a whole number in [1, 4,096] GPUs, got 0."),
        (
            {"num_gpus": -2},
            "predict(): num_gpus must be a whole number in [1, 4,096] GPUs, got -2.",
        ),
    ],
)
def test_layout_counts_below_one_are_refused_in_the_domain_form(
    kwargs: dict[str, int], message: str
) -> None:
    with pytest.raises(InputError) as err:
        predict(model="llama-3.1-8b", gpu="H100", isl=100, osl=100, concurrency=1, **kwargs)
    assert str(err.value) == message
