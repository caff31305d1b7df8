"""Distributed crawls on scrapy-redis: N ``scrapy crawl`` processes, on one machine or many, share one crawl.

Only when ``REDIS_URL`` is set, :class:`DistributedAddon` swaps in :class:`RedisScheduler` (scrapy-redis's
scheduler and dupefilter, persistent) and :class:`DistributedCrawl` (coordination), and the incremental state
moves to Redis (``crawlers.state.open_state``). Without ``REDIS_URL`` nothing changes.

A crawl is named by ``NEWSVAULT_CRAWL_NAME`` (default: the spider name) and runs in *rounds*. The first worker
to start takes ``newsvault:{crawl}:round`` with ``SET NX`` and seeds (:func:`seeds_this_round`); the others join
its round and take requests from the shared queue. Every key of a round starts with
``newsvault:{crawl}:{round}:`` (``requests``, ``dupefilter``, ``workers``, ``worker:{id}``, ``done``).

Closing: each worker keeps ``worker:{id}`` = ``busy`` or ``idle`` with a short TTL (a killed worker's key
expires). An idle worker closes once, in one atomic Redis script, the queue is empty and no live worker is busy
(for instance still parsing a feed that will yield requests); the worker that sees this first ends the round:
it deletes the round pointer, the queue and the dupefilter and sets ``done`` (so the dupefilter never outgrows
one round), and the next run seeds a new round. Keys of abandoned rounds expire after
``NEWSVAULT_REDIS_ROUND_TTL``.

Failures are loud: a Redis error that outlasts the client's retries, or a round whose keys vanished (Redis
restarted without persistence), logs an error and closes the worker with reason ``redis_unavailable`` or
``redis_lost_round`` (exit code 7). Nothing that was not recorded in the state is lost: the next round finds it.
"""

from __future__ import annotations

import logging

from redis import Redis
from redis.exceptions import RedisError
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object
from scrapy.utils.reactor import CallLaterOnce
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from crawlers.errors import StartFailure
from crawlers.state import RedisState, StateStore

logger = logging.getLogger(__name__)

BUSY, IDLE = "busy", "idle"
# Atomic end-of-round check. KEYS: pointer, requests, dupefilter, workers, done.
# ARGV: round id, prefix of the worker keys, TTL of the done marker (s).
_FINISH_SCRIPT = """
if redis.call('EXISTS', KEYS[5]) == 1 then return 'done' end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'lost' end
if redis.call('ZCARD', KEYS[2]) > 0 then return 'pending' end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  local status = redis.call('GET', ARGV[2] .. id)
  if status == 'busy' then return 'busy' end
  if not status then redis.call('SREM', KEYS[4], id) end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('SET', KEYS[5], '1', 'EX', ARGV[3])
return 'finished'
"""


class RoundKeys:
    """The Redis keys of one round of a crawl."""

    def __init__(self, crawl: str, round_id: str):
        self.crawl, self.round = crawl, round_id
        self.pointer = f"newsvault:{crawl}:round"  # the id of the crawl's current round (its seeder's run id)
        base = f"newsvault:{crawl}:{round_id}:"
        self.requests, self.dupefilter, self.workers, self.done = (
            base + name for name in ("requests", "dupefilter", "workers", "done")
        )
        self.worker_prefix = base + "worker:"

    def worker(self, worker_id: str) -> str:
        """The status key of one worker."""
        return self.worker_prefix + worker_id

    def round_scoped(self) -> list[str]:
        """Keys that live as long as the round (their TTL is refreshed while a worker runs)."""
        return [self.pointer, self.requests, self.dupefilter, self.workers]


class DistributedAddon:
    """Scrapy add-on: with ``REDIS_URL`` set, scheduler, dupefilter, state and closing go through Redis."""

    def update_settings(self, settings: BaseSettings) -> None:
        """Switch to the Redis components; leave everything untouched when ``REDIS_URL`` is unset."""
        if not settings.get("REDIS_URL"):
            return
        settings.set("SCHEDULER", f"{__name__}.RedisScheduler", "addon")
        settings.set("SCHEDULER_PERSIST", True, "addon")  # several workers: never flush the shared queue
        settings.setdefault_in_component_priority_dict("EXTENSIONS", DistributedCrawl, 100)
        if (settings.getpriority("ITEMS_MIN_ITEMS") or 0) <= SETTINGS_PRIORITIES["project"]:
            # one worker may legitimately get nothing; check the merged manifest instead (-s still wins)
            settings.set("ITEMS_MIN_ITEMS", 0, "project")


class DistributedCrawl:
    """Coordinates one worker with the others: round, seeding, busy/idle status, end of round, failures."""

    def __init__(self, crawler: Crawler, server: Redis):
        settings = crawler.settings
        self.crawler = crawler
        self.server = server
        self.worker_id = settings["NEWSVAULT_RUN_ID"]
        self.worker_ttl_ms = int(settings.getfloat("NEWSVAULT_REDIS_WORKER_TTL") * 1000)
        self.round_ttl = settings.getint("NEWSVAULT_REDIS_ROUND_TTL")
        self.poll = settings.getfloat("NEWSVAULT_REDIS_POLL_INTERVAL")
        self.crawl = settings["NEWSVAULT_CRAWL_NAME"].format(spider=crawler.spidercls.name)
        self.seeder, self.keys = self._join()
        self.status = BUSY
        self.failed = ""  # the close reason once this worker failed
        self._finish = server.register_script(_FINISH_SCRIPT)
        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.start(self.worker_ttl_ms / 3000, now=False)  # from now on: the busy status must not lapse
        self._wake = CallLaterOnce(self._wake_engine)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DistributedCrawl:
        """Join (or start) the crawl's round; fails the start of the crawl if Redis cannot be reached."""
        if not crawler.settings.get("REDIS_URL"):
            raise NotConfigured("REDIS_URL is not set")
        try:
            ext = cls(crawler, get_redis_from_settings(crawler.settings))
        except RedisError as error:  # the URL is not printed: it may hold a password
            raise StartFailure(f"cannot reach Redis (REDIS_URL): {error}") from None
        crawler.signals.connect(ext.spider_opened, signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signals.spider_closed)
        return ext

    def _join(self) -> tuple[bool, RoundKeys]:
        pointer = RoundKeys(self.crawl, "").pointer
        seeder = bool(self.server.set(pointer, self.worker_id, nx=True, ex=self.round_ttl))
        round_id = self.worker_id if seeder else self.server.get(pointer)
        if round_id is None:  # the round ended between the two calls: start the next one
            return self._join()
        keys = RoundKeys(self.crawl, round_id.decode() if isinstance(round_id, bytes) else round_id)
        self.server.sadd(keys.workers, self.worker_id)
        self.server.set(keys.worker(self.worker_id), BUSY, px=self.worker_ttl_ms)
        role = "seeds" if seeder else "joins"
        logger.info("Distributed crawl %r: worker %s %s round %s", self.crawl, self.worker_id, role, keys.round)
        return seeder, keys

    def spider_opened(self) -> None:
        """Note the round and this worker's role in the stats."""
        self.crawler.stats.set_value("distributed/round", self.keys.round)
        self.crawler.stats.set_value("distributed/seeder", self.seeder)

    def _beat(self) -> None:
        try:
            pipe = self.server.pipeline()
            pipe.set(self.keys.worker(self.worker_id), self.status, px=self.worker_ttl_ms)
            for key in self.keys.round_scoped():
                pipe.expire(key, self.round_ttl)
            pipe.get(self.keys.pointer)
            pipe.exists(self.keys.done)
            *_, pointer, done = pipe.execute()
        except RedisError as e:
            self.fail("redis_unavailable", f"Redis unavailable: {e}")
            return
        if not done and (pointer.decode() if pointer else None) != self.keys.round:
            self.fail("redis_lost_round", "the round's keys vanished from Redis (restarted without persistence?)")

    def set_status(self, status: str) -> None:
        """Publish ``busy`` (before taking a request) or ``idle`` (nothing left in this worker)."""
        if status != self.status:
            self.status = status
            self.server.set(self.keys.worker(self.worker_id), status, px=self.worker_ttl_ms)

    def spider_idle(self) -> None:
        """Keep the worker open while the queue holds requests or another worker may still add some."""
        if self.failed:
            raise CloseSpider(self.failed)
        keys = self.keys
        try:
            self.set_status(IDLE)
            round_keys = [keys.pointer, keys.requests, keys.dupefilter, keys.workers, keys.done]
            outcome = self._finish(keys=round_keys, args=[keys.round, keys.worker_prefix, self.round_ttl])
        except RedisError as e:
            self.fail("redis_unavailable", f"Redis unavailable: {e}")
            raise DontCloseSpider from e
        outcome = outcome.decode() if isinstance(outcome, bytes) else outcome
        if outcome == "lost":
            self.fail("redis_lost_round", "the round's keys vanished from Redis (restarted without persistence?)")
            raise CloseSpider("redis_lost_round")
        if outcome in ("pending", "busy"):
            self._wake.schedule(self.poll)
            raise DontCloseSpider
        if outcome == "finished":
            logger.info("Distributed crawl %r: round %s finished, its keys deleted", self.crawl, keys.round)

    def _wake_engine(self) -> None:
        # Scrapy polls an idle scheduler only every 5 s; ask the engine for its next requests sooner.
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None and slot.closing is None:
            slot.nextcall.schedule()

    def fail(self, reason: str, message: str) -> None:
        """Log the failure as an error and close this worker with ``reason`` (once)."""
        if self.failed:
            return
        self.failed = reason
        self.crawler.stats.inc_value(f"distributed/{reason}")
        logger.error("Distributed crawl %r, worker %s: %s; closing (%s)", self.crawl, self.worker_id, message, reason)
        if self.crawler.engine is not None and self.crawler.engine.spider is not None:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    def spider_closed(self) -> None:
        """Stop the heartbeat and leave the round."""
        if self._heartbeat.running:
            self._heartbeat.stop()
        self._wake.cancel()
        try:
            self.server.delete(self.keys.worker(self.worker_id))
            self.server.srem(self.keys.workers, self.worker_id)
        except RedisError as e:
            logger.warning("Could not leave the round in Redis: %s", e)


def seeds_this_round(crawler: Crawler) -> bool:
    """Whether this process should yield the spider's seeds: always, except a worker joining a distributed round."""
    crawl = crawler.get_extension(DistributedCrawl)
    return crawl is None or crawl.seeder


class RedisScheduler(Scheduler):
    """scrapy-redis's scheduler on the round's keys, reporting busy/idle and failing loudly on Redis errors."""

    crawl: DistributedCrawl
    state: StateStore

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        """The scheduler of the round joined by :class:`DistributedCrawl`."""
        crawl = crawler.get_extension(DistributedCrawl)
        if crawl is None:
            raise NotConfigured("RedisScheduler needs the DistributedCrawl extension (REDIS_URL)")
        settings = crawler.settings
        dupefilter = RFPDupeFilter(crawl.server, key=crawl.keys.dupefilter, debug=settings.getbool("DUPEFILTER_DEBUG"))
        scheduler = cls(
            crawl.server,
            persist=True,
            queue_key=crawl.keys.requests,
            queue_cls=settings.get("SCHEDULER_QUEUE_CLASS") or "scrapy_redis.queue.PriorityQueue",
            dupefilter=dupefilter,
            serializer=load_object(settings["SCHEDULER_SERIALIZER"]) if settings.get("SCHEDULER_SERIALIZER") else None,
        )
        scheduler.crawl = crawl
        scheduler.stats = crawler.stats
        return scheduler

    def enqueue_request(self, request: Request) -> bool:
        """Push a new request (unless the round's dupefilter has seen it) to the shared queue."""
        try:
            version = request.meta.get("state_version")
            state = getattr(self.spider, "state", None)  # the spider's own; None with refresh=all
            if isinstance(state, RedisState) and version is not None:
                state.discover(request.meta["state_key"], version)  # also when this URL is a duplicate
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            self.queue.push(request)
        except RedisError as e:
            self.crawl.fail("redis_unavailable", f"Redis unavailable, request not queued: {request.url} ({e})")
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        """The next shared request; the worker is marked busy before it pops, so no round ends under it."""
        if self.crawl.failed:
            return None
        try:
            was_idle = self.crawl.status == IDLE
            self.crawl.set_status(BUSY)
            request = self.queue.pop()
            if request is None and was_idle:
                self.crawl.set_status(IDLE)
        except RedisError as e:
            self.crawl.fail("redis_unavailable", f"Redis unavailable: {e}")
            return None
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        """Whether the shared queue holds requests."""
        try:
            return not self.crawl.failed and len(self) > 0
        except RedisError as e:
            self.crawl.fail("redis_unavailable", f"Redis unavailable: {e}")
            return False
