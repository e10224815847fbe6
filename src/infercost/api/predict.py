"""``POST /api/predict``: :func:`infercost.predict.predict` with its keywords as a JSON body;
the response is exactly the ``predict --json`` object (``PREDICT_JSON_KEYS``)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response

from infercost.api.respond import respond
from infercost.api.schema import Count, Name, Tokens
from infercost.api.schema import Request as Body
from infercost.predict import Prediction, predict

router = APIRouter(tags=["predict"])


class PredictRequest(Body):
    """The keywords of :func:`infercost.predict.predict` (``infercost predict`` flags)."""

    model: Name | None = None
    gpu: Name
    isl: Tokens
    osl: Tokens
    num_gpus: Count | None = None
    tp: Count | None = None
    pp: Count = 1
    ep: Count = 1
    dp: Count | None = None
    weight_dtype: Name | None = None
    kv_dtype: Name = "auto"
    concurrency: Count | None = None
    max_throughput: bool = False
    engine: Name = "vllm"
    gpu_hour_usd: float | None = None
    offer: Name | None = None
    allow_spot: bool = False
    pack_replicas: bool = False
    explain: bool = False


def run_predict(req: PredictRequest) -> Prediction:
    """The library call behind the endpoint and the web page (same keywords, same errors)."""
    return predict(**req.model_dump())


@router.post(
    "/api/predict",
    summary="One steady-state prediction (the predict --json object)",
    responses={200: {"model": Prediction, "description": "The predict --json object."}},
    response_class=Response,
)
async def predict_endpoint(body: PredictRequest, request: Request) -> Response:
    """Fit, throughput, latency and $/M tokens; ``fits: false`` with the reason when the
    configuration does not fit (200, as ``predict --json`` exits 0)."""
    data = await respond(request, run_predict, body)
    # serialised once here: the keys are already PREDICT_JSON_KEYS, checked finite
    return Response(json.dumps(data, allow_nan=False), media_type="application/json")
