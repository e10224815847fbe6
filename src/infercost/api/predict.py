"""``POST /api/predict``: :func:`infercost.predict.predict` with its keywords as a JSON body;
the response is exactly the ``predict --json`` object (``PREDICT_JSON_KEYS``).

``POST /api/predict/disagg``: :func:`infercost.disagg.predict_disagg` (``predict --disagg``),
the pools given as the CLI's flat ``prefill_*``/``decode_*`` keys; the response is the
``predict --disagg --json`` object (``DISAGG_JSON_KEYS``)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response

from infercost.api.respond import respond
from infercost.api.schema import Count, Name, Tokens
from infercost.api.schema import Request as Body
from infercost.disagg import DisaggPrediction, Pool, predict_disagg
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
    num_nodes: Count | None = None
    fixed_lengths: bool = False


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


class DisaggRequest(Body):
    """The keywords of :func:`infercost.disagg.predict_disagg` (``infercost predict --disagg``
    flags): the shared ones of ``/api/predict`` and each pool's layout, flat."""

    model: Name | None = None
    gpu: Name
    isl: Tokens
    osl: Tokens
    concurrency: Count
    weight_dtype: Name | None = None
    kv_dtype: Name = "auto"
    engine: Name = "vllm"
    prefill_tp: Count = 1
    prefill_pp: Count = 1
    prefill_ep: Count = 1
    prefill_dp: Count = 1
    prefill_workers: Count = 1
    prefill_max_batch_tokens: Count | None = None
    decode_tp: Count = 1
    decode_pp: Count = 1
    decode_ep: Count = 1
    decode_dp: Count = 1
    decode_workers: Count = 1
    decode_max_batch: Count | None = None
    kv_link: Name = "ib"
    kv_link_gbps: float | None = None
    kv_overlap: bool = True
    gpu_hour_usd: float | None = None
    offer: Name | None = None
    allow_spot: bool = False
    pack_replicas: bool = False


def run_predict_disagg(req: DisaggRequest) -> DisaggPrediction:
    """The library call behind ``/api/predict/disagg`` (same keywords, same errors)."""
    return predict_disagg(
        req.model,
        req.gpu,
        req.isl,
        req.osl,
        prefill=Pool(
            tp=req.prefill_tp,
            pp=req.prefill_pp,
            ep=req.prefill_ep,
            dp=req.prefill_dp,
            workers=req.prefill_workers,
            max_batch_tokens=req.prefill_max_batch_tokens,
        ),
        decode=Pool(
            tp=req.decode_tp,
            pp=req.decode_pp,
            ep=req.decode_ep,
            dp=req.decode_dp,
            workers=req.decode_workers,
            max_batch=req.decode_max_batch,
        ),
        concurrency=req.concurrency,
        link=req.kv_link,
        link_gbps=req.kv_link_gbps,
        overlap=req.kv_overlap,
        weight_dtype=req.weight_dtype,
        kv_dtype=req.kv_dtype,
        engine=req.engine,
        gpu_hour_usd=req.gpu_hour_usd,
        offer=req.offer,
        allow_spot=req.allow_spot,
        pack_replicas=req.pack_replicas,
    )


@router.post(
    "/api/predict/disagg",
    summary="Disaggregated prefill/decode prediction (the predict --disagg --json object)",
    responses={
        200: {"model": DisaggPrediction, "description": "The predict --disagg --json object."}
    },
    response_class=Response,
)
async def predict_disagg_endpoint(body: DisaggRequest, request: Request) -> Response:
    """TTFT terms, TPOT, throughput, the P:D balance and $/M of an xPyD deployment;
    ``fits: false`` with the reason when a worker does not hold the model (200)."""
    data = await respond(request, run_predict_disagg, body)
    return Response(json.dumps(data, allow_nan=False), media_type="application/json")
