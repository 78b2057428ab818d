"""Outbound webhooks: subscriptions, the relay from the outbox to deliveries, and signed
deliveries with retries.

    write (any door) ──► ChangeEvent in the same transaction (customers.events)
          after commit ──► relay: events past the relay cursor → one delivery per matching
                           subscription (also run by a periodic sweep, so a broker that was
                           down loses nothing)
                        ──► deliver: POST, signed; non-2xx or timeout → retried with
                           exponential backoff for about a day, then the subscription is
                           disabled and flagged. Every attempt is logged; any delivery can be
                           replayed.
"""
