"""The staff desk: tickets, replies to people, and what specialists see of them.

``staff_desk`` (the operations every staff adapter calls: take, reply, resolve, relay),
``cards`` (ticket cards and lists as text), ``outbox`` (staff-group posts in order, retried).
"""
