"""One client for any OpenAI-compatible chat-completions endpoint (OpenAI, OpenRouter, Ollama,
vLLM), on the official `openai` SDK.

Structured output: JSON schema where the server accepts it, else JSON mode, else a plain
request whose prompt demands JSON; the mode a server refuses (a 400) is remembered. Every
answer is validated with pydantic, with one repair attempt. The whole call, retries and
repair included, has one deadline (LLM_TIMEOUT); 429 and 5xx are retried with backoff inside
it. A global semaphore bounds concurrent generations. Any failure is an LLMFailure: the
caller falls back to the offline writer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.clock import Clock
from app.llm import prompts

if TYPE_CHECKING:
    import openai

# The `openai` SDK is imported only when a client is built, that is when LLM_BASE_URL and
# LLM_MODEL are set: it costs start-up memory and time (see BENCHMARKS.md, "Figures behind
# design choices"), for nothing when the offline writer is all there is.

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

MODES = ("json_schema", "json_object", "plain")
MAX_ATTEMPTS = 4
BACKOFF = (0.5, 1.0, 2.0)
MAX_RETRY_AFTER = 10.0
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


class LLMFailure(Exception):
    """The model gave no valid answer in time; the message says why (never a secret)."""


class LLMClient:
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None,
        timeout: float,
        max_concurrency: int,
        clock: Clock,
    ) -> None:
        self.model = model
        self.timeout = timeout
        self.clock = clock
        from openai import AsyncOpenAI

        # Retries are ours (one deadline for the whole call); local servers need no key.
        self._openai = AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout,
            max_retries=0,
        )
        self._gate = asyncio.Semaphore(max_concurrency)
        self._mode = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0

    async def close(self) -> None:
        await self._openai.close()

    async def structured(
        self,
        *,
        purpose: str,
        system: str,
        user: str,
        output: type[T],
        max_tokens: int,
        check: Callable[[T], None] | None = None,
    ) -> T:
        """A validated answer within LLM_TIMEOUT, or LLMFailure."""
        try:
            async with asyncio.timeout(self.timeout), self._gate:
                messages: list[dict[str, str]] = [
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ]
                raw = await self._complete(purpose, messages, output, max_tokens)
                try:
                    return _parse(raw, output, check)
                except ValueError as exc:
                    error = _short(exc)
                    log.info("llm %s: invalid answer (%s); one repair attempt", purpose, error)
                messages += [
                    {"role": "assistant", "content": raw[:8000]},
                    {"role": "user", "content": prompts.REPAIR.format(error=error)},
                ]
                raw = await self._complete(purpose, messages, output, max_tokens)
                try:
                    return _parse(raw, output, check)
                except ValueError as exc:
                    raise LLMFailure(f"invalid answer after repair: {_short(exc)}") from None
        except TimeoutError:
            raise LLMFailure(f"no answer within {self.timeout:g} s") from None

    async def _complete(
        self, purpose: str, messages: list[dict[str, str]], output: type[BaseModel], max_tokens: int
    ) -> str:
        import openai

        attempt = 0
        while True:
            mode = MODES[self._mode]
            started = time.monotonic()
            try:
                response = await self._openai.chat.completions.create(
                    model=self.model,
                    messages=messages,  # type: ignore[arg-type]
                    max_tokens=max_tokens,
                    temperature=0.4,
                    **_format(mode, output),
                )
            except openai.BadRequestError as exc:
                if self._mode + 1 < len(MODES):
                    # The server does not take this structured-output mode; step down for good.
                    log.info(
                        "llm: %s refused (%s); using %s",
                        mode,
                        exc.status_code,
                        MODES[self._mode + 1],
                    )
                    self._mode += 1
                    continue
                raise LLMFailure(f"request refused ({exc.status_code})") from None
            except openai.APIStatusError as exc:
                status = exc.status_code
                if (status == 429 or status >= 500) and attempt + 1 < MAX_ATTEMPTS:
                    delay = _retry_after(exc) if status == 429 else None
                    delay = delay if delay is not None else BACKOFF[min(attempt, len(BACKOFF) - 1)]
                    log.info("llm %s: %s; retrying in %.1f s", purpose, status, delay)
                    attempt += 1
                    await self.clock.sleep(delay)
                    continue
                raise LLMFailure(f"model answered {status}") from None
            except (openai.APITimeoutError, openai.APIConnectionError) as exc:
                if attempt + 1 < MAX_ATTEMPTS:
                    delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
                    log.info("llm %s: %s; retrying in %.1f s", purpose, type(exc).__name__, delay)
                    attempt += 1
                    await self.clock.sleep(delay)
                    continue
                raise LLMFailure(type(exc).__name__) from None
            usage = response.usage
            if usage is not None:
                self.prompt_tokens += usage.prompt_tokens
                self.completion_tokens += usage.completion_tokens
            log.info(
                "llm %s: model=%s mode=%s prompt_tokens=%s completion_tokens=%s in %.2f s",
                purpose,
                self.model,
                mode,
                usage.prompt_tokens if usage else "?",
                usage.completion_tokens if usage else "?",
                time.monotonic() - started,
            )
            if not response.choices:
                return ""
            return response.choices[0].message.content or ""


def _format(mode: str, output: type[BaseModel]) -> dict[str, Any]:
    if mode == "json_schema":
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": output.__name__,
                    "schema": output.model_json_schema(),
                    "strict": False,
                },
            }
        }
    if mode == "json_object":
        return {"response_format": {"type": "json_object"}}
    return {}


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after")
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value))) if value else None
    except ValueError:
        return None


def _parse(raw: str, output: type[T], check: Callable[[T], None] | None) -> T:
    text = raw.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    result = output.model_validate(data)
    if check is not None:
        check(result)
    return result


def _short(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}"
            for e in exc.errors()[:5]
        ]
        return "; ".join(parts)[:400]
    return str(exc)[:400]
