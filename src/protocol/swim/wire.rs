//! Sizes on the wire, as hashicorp/memberlist encodes its messages: what
//! bounds the updates a UDP packet can carry, and what the load metrics
//! count.
//!
//! memberlist writes each message as one type byte followed by the
//! msgpack encoding of a Go struct, which its codec writes as a map keyed
//! by the field names. So a message's size is fixed apart from its
//! integers (msgpack stores 0–127 in one byte, up to 255 in two, up to
//! 65,535 in three, the rest of a `uint32` in five) and its node names.
//! This model takes every member name to be `name_length` bytes, every
//! address an IPv4 address (4 bytes), the port a 16-bit number above 255
//! (three bytes, 7946 by default), no node metadata and the six version
//! bytes every `alive` carries; no encryption, no label, no compression,
//! and not the 5-byte CRC header protocol version 5 adds to packets whose
//! receiver it can look up.
//!
//! A message that carries updates is a *compound* message: one type byte,
//! a one-byte count, two length bytes per part, then the parts (the
//! message itself, then each update). memberlist reserves the type and
//! count bytes and each update's length before it asks its broadcast
//! queue for updates (`sendMsg`: the buffer less the message and 2 bytes,
//! then 2 bytes per update) but not the length of the message's own part,
//! so its compound can run 2 bytes past `UDPBufferSize`; fdsim reserves
//! those 2 bytes too, so no packet exceeds the buffer. A gossip round's
//! packet is the updates alone: one update is sent as it is, two or more
//! as a compound (memberlist reserves exactly what that takes).
//!
//! Sizes are UDP payload bytes, what memberlist's `memberlist.udp.sent`
//! and `memberlist.tcp.sent` telemetry counts: IP and UDP headers (28
//! bytes a datagram over IPv4) and TCP's own segments are not included.

use super::msg::{Kind, SwimMsg, Update, UpdateKind};

/// memberlist's `UDPBufferSize` in all three default configurations.
pub const UDP_BUFFER_SIZE: u32 = 1400;

/// A host name such as `consul-server-07`, the default member name
/// length (memberlist names a member after its host by default).
pub const NAME_LENGTH: u32 = 16;

/// memberlist `compoundHeaderOverhead`: the type and count bytes of a
/// compound message.
pub const COMPOUND_HEADER: u32 = 2;

/// memberlist `compoundOverhead`: the length of each part of a compound
/// message.
pub const COMPOUND_PART: u32 = 2;

/// The sizes that depend on the deployment: the packet budget and the
/// length of member names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireModel {
    /// Largest UDP payload a member sends (memberlist `UDPBufferSize`).
    pub udp_buffer_size: u32,
    /// Bytes in every member's name.
    pub name_length: u32,
}

impl Default for WireModel {
    fn default() -> Self {
        WireModel {
            udp_buffer_size: UDP_BUFFER_SIZE,
            name_length: NAME_LENGTH,
        }
    }
}

/// msgpack size of an unsigned integer.
pub fn uint(x: u64) -> u32 {
    match x {
        0..=127 => 1,
        128..=255 => 2,
        256..=65_535 => 3,
        65_536..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// msgpack size of a string or byte string of `len` bytes (memberlist's
/// codec writes byte slices as raw strings).
pub fn raw(len: u32) -> u32 {
    match len {
        0..=31 => 1 + len,
        32..=255 => 2 + len,
        256..=65_535 => 3 + len,
        _ => 5 + len,
    }
}

/// A map key: the field name as a string.
fn key(name: &str) -> u32 {
    raw(name.len() as u32)
}

/// The port, 7946 by default: a `uint16` above 255.
const PORT: u32 = 3;
/// An IPv4 address as a byte string.
const ADDR: u32 = 1 + 4;
/// The six protocol and delegate version bytes of `alive` and push-pull
/// records.
const VSN: u32 = 1 + 6;
/// Empty metadata.
const META: u32 = 1;

impl WireModel {
    fn name(&self) -> u32 {
        raw(self.name_length)
    }

    /// One update as memberlist's broadcast queue holds it: `alive`
    /// (Incarnation, Node, Addr, Port, Meta, Vsn) or `suspect` and `dead`
    /// (Incarnation, Node, From), with its type byte.
    pub fn update(&self, u: &Update) -> u32 {
        let head = 1 + 1 + key("Incarnation") + uint(u.incarnation.into()) + key("Node");
        match u.kind {
            UpdateKind::Alive => {
                head + self.name()
                    + key("Addr")
                    + ADDR
                    + key("Port")
                    + PORT
                    + key("Meta")
                    + META
                    + key("Vsn")
                    + VSN
            }
            UpdateKind::Suspect | UpdateKind::Dead => {
                head + self.name() + key("From") + self.name()
            }
        }
    }

    /// The message itself, without updates: `ping` (SeqNo, Node,
    /// SourceAddr, SourcePort, SourceNode), `indirectPingReq` (SeqNo,
    /// Target, Port, Node, Nack and the three Source fields), `ackResp`
    /// (SeqNo, empty Payload), `nackResp` (SeqNo); 0 for a gossip packet,
    /// which is only updates; for push-pull, the stream's header and one
    /// record per member.
    pub fn base(&self, msg: &SwimMsg) -> u32 {
        let seq = 1 + 1 + key("SeqNo") + uint(msg.seq.into());
        let source =
            key("SourceAddr") + ADDR + key("SourcePort") + PORT + key("SourceNode") + self.name();
        match msg.kind {
            Kind::Ping => seq + key("Node") + self.name() + source,
            Kind::PingReq => {
                seq + key("Target")
                    + ADDR
                    + key("Port")
                    + PORT
                    + key("Node")
                    + self.name()
                    + key("Nack")
                    + 1
                    + source
            }
            Kind::Ack => seq + key("Payload") + 1,
            Kind::Nack => seq,
            Kind::Gossip => 0,
            Kind::PushPull | Kind::PushPullReply => self.push_pull(msg),
        }
    }

    /// A push-pull stream: the type byte, `pushPullHeader` (Nodes,
    /// UserStateLen, Join) and one `pushNodeState` (Name, Addr, Port,
    /// Meta, Incarnation, State, Vsn) per member.
    fn push_pull(&self, msg: &SwimMsg) -> u32 {
        let state = msg.state.as_deref();
        let header = 1
            + 1
            + key("Nodes")
            + uint(state.map_or(0, |s| s.len()) as u64)
            + key("UserStateLen")
            + 1
            + key("Join")
            + 1;
        let fixed = 1
            + key("Name")
            + self.name()
            + key("Addr")
            + ADDR
            + key("Port")
            + PORT
            + key("Meta")
            + META
            + key("Incarnation")
            + key("State")
            + 1
            + key("Vsn")
            + VSN;
        let records = state.map_or(0, |s| s.sum_incarnations(|inc| fixed + uint(inc.into())));
        header.saturating_add(records)
    }

    /// Bytes left for updates on `msg` (with what it carries already
    /// counted), each update then costing its size and
    /// [`COMPOUND_PART`]; 0 for push-pull, which goes over TCP.
    pub fn room(&self, msg: &SwimMsg) -> u32 {
        if msg.over_tcp() {
            return 0;
        }
        let used = match msg.kind {
            Kind::Gossip => COMPOUND_HEADER,
            _ => self.base(msg) + COMPOUND_HEADER + COMPOUND_PART,
        };
        let carried: u32 = msg
            .updates
            .as_slice()
            .iter()
            .map(|u| self.update(u) + COMPOUND_PART)
            .sum();
        self.udp_buffer_size.saturating_sub(used + carried)
    }

    /// The smallest buffer in which every message can still carry one
    /// update (a ping-req and an `alive`, both with five-byte integers).
    pub fn min_buffer(&self) -> u32 {
        let req = SwimMsg::new(Kind::PingReq, u32::MAX, 0);
        let alive = Update {
            kind: UpdateKind::Alive,
            subject: 0,
            incarnation: u32::MAX,
            from: 0,
        };
        self.base(&req) + COMPOUND_HEADER + 2 * COMPOUND_PART + self.update(&alive)
    }

    /// The whole packet (or stream) as sent.
    pub fn bytes(&self, msg: &SwimMsg) -> u32 {
        let base = self.base(msg);
        let ups = msg.updates.as_slice();
        let sum: u32 = ups.iter().map(|u| self.update(u)).sum();
        match (msg.kind, ups.len()) {
            (_, 0) => base,
            (Kind::Gossip, 1) => sum,
            (Kind::Gossip, k) => COMPOUND_HEADER + COMPOUND_PART * k as u32 + sum,
            (_, k) => COMPOUND_HEADER + COMPOUND_PART * (k as u32 + 1) + base + sum,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::swim::Snapshot;

    fn upd(kind: UpdateKind, incarnation: u32) -> Update {
        Update {
            kind,
            subject: 1,
            incarnation,
            from: 2,
        }
    }

    #[test]
    fn msgpack_integers_and_strings_take_their_smallest_form() {
        assert_eq!(
            [0, 127, 128, 255, 256, 65_535, 65_536].map(uint),
            [1, 1, 2, 2, 3, 3, 5]
        );
        assert_eq!(
            [0, 16, 31, 32, 255, 256].map(raw),
            [1, 17, 32, 34, 257, 259]
        );
    }

    /// Counted by hand from the field names, with a 16-byte name and a
    /// small incarnation: `alive` is 1 (type), 1 (map), 12 ("Incarnation"),
    /// 1, 5 ("Node"), 17, 5 ("Addr"), 5, 5 ("Port"), 3, 5 ("Meta"), 1,
    /// 4 ("Vsn") and 7: 72 bytes; `suspect` and `dead` are 1, 1, 12, 1,
    /// 5, 17, 5 ("From") and 17: 59.
    #[test]
    fn updates_have_memberlists_sizes() {
        let m = WireModel::default();
        assert_eq!(m.update(&upd(UpdateKind::Alive, 3)), 72);
        assert_eq!(m.update(&upd(UpdateKind::Suspect, 3)), 59);
        assert_eq!(m.update(&upd(UpdateKind::Dead, 3)), 59);
        assert_eq!(m.update(&upd(UpdateKind::Dead, 1 << 20)), 63);
        let long = WireModel {
            name_length: 40,
            ..m
        };
        assert_eq!(long.update(&upd(UpdateKind::Suspect, 3)), 59 + 2 * 25);
    }

    /// `ping`: 1, 1, 6 ("SeqNo"), 1, 5 ("Node"), 17, 11 ("SourceAddr"),
    /// 5, 11 ("SourcePort"), 3, 11 ("SourceNode") and 17: 89 bytes;
    /// `ackResp`: 1, 1, 6, 1, 8 ("Payload") and 1 (nil): 18.
    #[test]
    fn messages_have_memberlists_sizes() {
        let m = WireModel::default();
        let size = |kind, seq| m.bytes(&SwimMsg::new(kind, seq, 0));
        assert_eq!(size(Kind::Ping, 5), 89);
        assert_eq!(size(Kind::Ping, 500), 91);
        assert_eq!(size(Kind::Ack, 5), 18);
        assert_eq!(size(Kind::Nack, 5), 9);
        assert_eq!(size(Kind::PingReq, 5), 89 + 7 + 5 + 5 + 3 + 5 + 1);
        let mut ack = SwimMsg::new(Kind::Ack, 5, 0);
        ack.updates.push(upd(UpdateKind::Alive, 0));
        ack.updates.push(upd(UpdateKind::Dead, 0));
        assert_eq!(m.bytes(&ack), 2 + 3 * 2 + 18 + 72 + 59);
        assert_eq!(m.room(&ack), 1400 - 2 - 2 - 18 - (72 + 2) - (59 + 2));
        assert_eq!(m.room(&ack), 1400 - m.bytes(&ack), "the rest of the buffer");
        let mut gossip = SwimMsg::new(Kind::Gossip, 0, 0);
        gossip.updates.push(upd(UpdateKind::Alive, 0));
        assert_eq!(m.bytes(&gossip), 72, "one update goes alone");
        gossip.updates.push(upd(UpdateKind::Alive, 0));
        assert_eq!(m.bytes(&gossip), 2 + 2 * 2 + 2 * 72);
    }

    /// A push-pull of 16 members: 28 + 1 bytes of header and 78 a record
    /// (61 + 16-byte name + 1-byte incarnation).
    #[test]
    fn a_push_pull_is_a_header_and_one_record_per_member() {
        let m = WireModel::default();
        let msg = SwimMsg {
            state: Some(std::sync::Arc::new(Snapshot::everyone_alive(16, 0))),
            ..SwimMsg::new(Kind::PushPull, 1, 0)
        };
        assert_eq!(m.bytes(&msg), 29 + 16 * 78);
        assert_eq!(m.room(&msg), 0);
    }

    #[test]
    fn the_smallest_buffer_holds_a_ping_req_and_one_alive() {
        let m = WireModel::default();
        // 115 + 4 (five-byte sequence number), 72 + 4 (incarnation), and
        // the compound's 2 + 2 · 2.
        assert_eq!(m.min_buffer(), 119 + 76 + 6);
    }
}
