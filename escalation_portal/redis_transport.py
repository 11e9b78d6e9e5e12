"""Kombu's Redis transport, with one failure turned from a crash into a warning.

When the connection to Redis drops while the worker holds messages it has received but not
acknowledged, kombu closes the channel and tries to put those messages back on the queue
(QoS.restore_unacked), or a task that ends later acknowledges its message (QoS.ack), through
a connection that no longer exists: `AttributeError: 'NoneType' object has no attribute
'hostname'` (or 'client') escapes kombu's connection-error handling and
the worker stops ("Unrecoverable error"). Reproduced with kombu 5.7 and Celery 5.7 by killing
a redis-server while a task ran, every time (docs/adr/0017-the-worker-survives-the-broker.md).

Here that restore or acknowledgement is skipped with a warning instead. Nothing is lost: the messages stay in
Redis's own record of unacknowledged messages, which Redis hands out again after the
visibility timeout; and every message of the portal is only a nudge (relay now, sweep now),
whose work the database holds and beat asks for again within a minute."""

from __future__ import annotations

import logging

from kombu.transport import redis

logger = logging.getLogger(__name__)


class QoS(redis.QoS):
    def restore_unacked(self, client=None):
        try:
            return super().restore_unacked(client)
        except AttributeError as exc:  # the channel's connection is already gone
            logger.warning(
                "Connection to Redis lost with %s message(s) received and not acknowledged;"
                " Redis gives them out again after the visibility timeout (%s)",
                len(self._delivered),
                exc,
            )
            self._delivered.clear()
            return None

    def ack(self, delivery_tag):
        # A task that ends after the connection dropped acknowledges through the same dead
        # channel (late acknowledgement), with the same AttributeError.
        try:
            return super().ack(delivery_tag)
        except AttributeError as exc:
            logger.warning(
                "Connection to Redis lost before a message was acknowledged; Redis gives it"
                " out again after the visibility timeout (%s)",
                exc,
            )
            return None


class Channel(redis.Channel):
    QoS = QoS


class Transport(redis.Transport):
    Channel = Channel
