"""`POST /admission/validate` and `/admission/mutate`: Kubernetes admission webhooks.

The API server calls them with an `AdmissionReview` (admission.k8s.io/v1) and reads the
`AdmissionReview` answered; a body that is not one is a 400 with the reason. The routes are
open to the authorisation middleware (the API server sends none of the hub's credentials);
`AdmissionService.authorise` checks the admission token when one is configured.
"""

from __future__ import annotations

from aiohttp import web

from registry import keys
from registry.admission.review import ReviewError, answer, parse_review, replace_images
from registry.errors import InvalidRequestError, NotFoundError


async def validate(request: web.Request) -> web.Response:
    return await _answer(request, mutating=False)


async def mutate(request: web.Request) -> web.Response:
    return await _answer(request, mutating=True)


async def _answer(request: web.Request, *, mutating: bool) -> web.Response:
    if not request.app[keys.SETTINGS].admission_enabled:
        raise NotFoundError("the admission webhook is off on this hub (admission.enabled)")
    service = request.app[keys.ADMISSION]
    authorised = service.authorise(request.headers.get("Authorization"))
    # Bounded by the app's client_max_size (a 413 beyond it); objects in etcd are far smaller.
    body = await request.read()
    try:
        review = parse_review(body)
    except ReviewError as exc:
        raise InvalidRequestError(f"not an admission.k8s.io/v1 AdmissionReview: {exc}") from exc
    decision = await service.decide(
        review, authorised=authorised, address=request.remote or "", mutating=mutating
    )
    patch = replace_images(decision.pins()) if mutating else None
    return web.json_response(answer(review.uid, decision.allowed, decision.message, patch))
