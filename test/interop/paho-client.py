"""paho-mqtt interop client for test/interop/paho.test.ts.

usage: paho-client.py PORT VERSION(31|311|5) SCENARIO
Prints one JSON object with what was received; exits non-zero (message on stderr) on any
failure. Every wait is bounded. Works with paho-mqtt 1.x (Debian) and 2.x (callback API v1).
"""
import json
import sys
import threading

import paho.mqtt.client as mqtt

PORT = int(sys.argv[1])
VERSION = sys.argv[2]
SCENARIO = sys.argv[3]
PROTOCOL = {"31": mqtt.MQTTv31, "311": mqtt.MQTTv311, "5": mqtt.MQTTv5}[VERSION]
V5 = PROTOCOL == mqtt.MQTTv5
WAIT = 5.0

if V5:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties


def fail(msg):
    sys.stderr.write(msg + "\n")
    sys.exit(1)


class Peer:
    """A paho client on its own network thread, with events for CONNACK/SUBACK and a message list."""

    def __init__(self, client_id, clean=True, will=None, session_expiry=None):
        args = (mqtt.CallbackAPIVersion.VERSION1,) if hasattr(mqtt, "CallbackAPIVersion") else ()
        if V5:
            self.c = mqtt.Client(*args, client_id=client_id, protocol=PROTOCOL)
        else:
            self.c = mqtt.Client(*args, client_id=client_id, clean_session=clean, protocol=PROTOCOL)
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.got = threading.Condition()
        self.messages = []
        self.connack = None
        self.c.on_connect = self._on_connect
        self.c.on_subscribe = self._on_subscribe
        self.c.on_message = self._on_message
        if will:
            self.c.will_set(will[0], will[1], qos=1)
        kwargs = {}
        if V5:
            kwargs["clean_start"] = clean
            if session_expiry is not None:
                p = Properties(PacketTypes.CONNECT)
                p.SessionExpiryInterval = session_expiry
                kwargs["properties"] = p
        self.c.connect("127.0.0.1", PORT, keepalive=60, **kwargs)
        self.c.loop_start()
        if not self.connected.wait(WAIT):
            fail(f"{client_id}: no CONNACK")
        if self.connack["rc"] != 0:
            fail(f"{client_id}: CONNACK {self.connack}")

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self.connack = {"rc": int(rc.value if hasattr(rc, "value") else rc), "session_present": bool(flags.get("session present"))}
        self.connected.set()

    def _on_subscribe(self, client, userdata, mid, granted, properties=None):
        self.granted = [int(g.value if hasattr(g, "value") else g) for g in granted]
        self.subscribed.set()

    def _on_message(self, client, userdata, msg):
        m = {"topic": msg.topic, "payload": msg.payload.decode(), "qos": msg.qos, "retain": bool(msg.retain)}
        if V5 and msg.properties is not None:
            p = msg.properties
            m["props"] = {
                "user": [list(kv) for kv in getattr(p, "UserProperty", [])],
                "response_topic": getattr(p, "ResponseTopic", None),
                "correlation": getattr(p, "CorrelationData", b"").decode() or None,
                "content_type": getattr(p, "ContentType", None),
                "expiry": getattr(p, "MessageExpiryInterval", None),
                "sub_ids": getattr(p, "SubscriptionIdentifier", None),
            }
        with self.got:
            self.messages.append(m)
            self.got.notify_all()

    def subscribe(self, topic, qos, sub_id=None):
        self.subscribed.clear()
        if V5 and sub_id is not None:
            p = Properties(PacketTypes.SUBSCRIBE)
            p.SubscriptionIdentifier = sub_id
            self.c.subscribe(topic, qos, properties=p)
        else:
            self.c.subscribe(topic, qos)
        if not self.subscribed.wait(WAIT):
            fail(f"no SUBACK for {topic}")
        return self.granted

    def publish(self, topic, payload, qos, retain=False, properties=None):
        kwargs = {"properties": properties} if V5 and properties is not None else {}
        info = self.c.publish(topic, payload, qos=qos, retain=retain, **kwargs)
        info.wait_for_publish(WAIT)
        if not info.is_published():
            fail(f"publish to {topic} at QoS {qos} not completed")

    def take(self, n):
        with self.got:
            if not self.got.wait_for(lambda: len(self.messages) >= n, WAIT):
                fail(f"expected {n} messages, got {self.messages}")
            out, self.messages = self.messages[:n], self.messages[n:]
            return out

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def base(name):
    return f"paho/{VERSION}/{name}"


def scenario_pubsub():
    """QoS 0/1/2 in both directions between two clients."""
    a = Peer(f"paho{VERSION}-a")
    b = Peer(f"paho{VERSION}-b")
    out = []
    for q in (0, 1, 2):
        granted = a.subscribe(base(f"to-a/{q}"), q) + b.subscribe(base(f"to-b/{q}"), q)
        a.publish(base(f"to-b/{q}"), f"a{q}", q)
        b.publish(base(f"to-a/{q}"), f"b{q}", q)
        out.append({"granted": granted, "at_a": a.take(1), "at_b": b.take(1)})
    a.close()
    b.close()
    return out


def scenario_retained():
    p = Peer(f"paho{VERSION}-rp")
    p.publish(base("ret"), "kept", 1, retain=True)
    s = Peer(f"paho{VERSION}-rs")
    s.subscribe(base("ret"), 1)
    got = s.take(1)
    p.publish(base("ret"), "", 1, retain=True)
    s.take(1)
    p.close()
    s.close()
    return got


def scenario_session():
    """A persistent session: QoS 1 and 2 messages published while offline arrive on return."""
    cid = f"paho{VERSION}-persist"
    s = Peer(cid, clean=False, session_expiry=300)
    s.subscribe(base("pq"), 2)
    s.close()
    p = Peer(f"paho{VERSION}-pp")
    p.publish(base("pq"), "one", 1)
    p.publish(base("pq"), "two", 2)
    back = Peer(cid, clean=False, session_expiry=300)
    got = back.take(2)
    session_present = back.connack["session_present"]
    back.close()
    p.close()
    return {"session_present": session_present, "got": got}


def scenario_will():
    w = Peer(f"paho{VERSION}-ww")
    w.subscribe(base("will"), 1)
    d = Peer(f"paho{VERSION}-wd", will=(base("will"), "gone"))
    # Drop the TCP connection without DISCONNECT: the broker must publish the will.
    d.c.loop_stop()
    d.c.socket().close()
    got = w.take(1)
    w.close()
    return got


def scenario_properties():
    s = Peer("paho5-props-s")
    s.subscribe(base("props"), 1, sub_id=42)
    p = Peer("paho5-props-p")
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [("k1", "v1"), ("k2", "v2")]
    props.ResponseTopic = base("resp")
    props.CorrelationData = b"corr-1"
    props.ContentType = "text/plain"
    props.MessageExpiryInterval = 3600
    p.publish(base("props"), "x", 1, properties=props)
    got = s.take(1)
    s.close()
    p.close()
    return got


SCENARIOS = {
    "pubsub": scenario_pubsub,
    "retained": scenario_retained,
    "session": scenario_session,
    "will": scenario_will,
    "properties": scenario_properties,
}

print(json.dumps(SCENARIOS[SCENARIO]()))
