//! Compact state of trace-code rules: the last settlement of every trace code seen.
//!
//! This is most of a long stream's memory, so it is packed. A national trace code (药品追溯码:
//! 20 digits; any all-digit code of at most 21 digits whose value is below 2^67) is keyed by the
//! low 64 bits of its value, with its high bits and length kept in the entry; any other code (and
//! the rare digit code whose low 64 bits collide with another's) is a boxed string in a second
//! map. The facility is interned to 22 bits; the line id (`feedetl_sn`, the finding's related
//! line) goes to a byte arena.
//!
//! One code costs a 24-byte table entry (key 8, time 8, arena offset, facility and key tag 8)
//! plus one control byte, divided by the table's load (44–88%), plus 2 + len(feedetl_sn) bytes
//! in the arena. The digit map is split into [`SHARDS`] tables so that growing one never holds
//! two copies of the whole set, and the arena grows in fixed chunks (never reallocated or
//! copied). Dropped codes leave holes in the arena; it is compacted when holes are more than half
//! of it. Limits: 2^22 − 1 facilities (more are recorded as unknown, so their repeats are counted
//! as unjudged, never guessed) and 16 GiB of line ids (beyond it recording fails with an error).

use crate::engine::codes::FxHashMap;
use crate::error::{Error, Result};
use crate::templates::history::Sale;
use serde::{Deserialize, Serialize};

/// Number of digit-code tables.
pub(crate) const SHARDS: usize = 64;
/// Bytes per arena chunk.
const CHUNK: usize = 1 << 24;
const AT_BITS: u32 = 34;
const FAC_BITS: u32 = 22;
/// Facility id meaning unknown.
const NO_FAC: u32 = (1 << FAC_BITS) - 1;

/// 16 bytes: the time; the arena offset (34 bits), facility (22 bits) and key tag (8 bits).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Last {
    time: i64,
    packed: u64,
}

impl Last {
    fn new(time: i64, at: u64, fac: u32, tag: u8) -> Self {
        let packed = (at & ((1 << AT_BITS) - 1))
            | (u64::from(fac.min(NO_FAC)) << AT_BITS)
            | (u64::from(tag) << (AT_BITS + FAC_BITS));
        Last { time, packed }
    }
    fn at(self) -> u64 {
        self.packed & ((1 << AT_BITS) - 1)
    }
    fn fac(self) -> u32 {
        ((self.packed >> AT_BITS) & u64::from(NO_FAC)) as u32
    }
    fn tag(self) -> u8 {
        (self.packed >> (AT_BITS + FAC_BITS)) as u8
    }
    fn with_at(self, at: u64) -> Self {
        Last::new(self.time, at, self.fac(), self.tag())
    }
}

/// Append-only bytes in fixed chunks; an offset is `chunk * CHUNK + position`.
#[derive(Debug, Clone, Default, PartialEq)]
struct Arena {
    chunks: Vec<Vec<u8>>,
}

impl Arena {
    fn len(&self) -> u64 {
        self.chunks.iter().map(|c| c.len() as u64).sum()
    }

    /// Appends `[len u16][bytes]` and returns its offset.
    fn push(&mut self, bytes: &[u8]) -> u64 {
        let bytes = bytes.get(..bytes.len().min(usize::from(u16::MAX))).unwrap_or_default();
        let n = 2 + bytes.len();
        if self.chunks.last().is_none_or(|c| c.len() + n > CHUNK) {
            // The first chunk grows on demand (small stores stay small); later ones are whole.
            let cap = if self.chunks.is_empty() { n.max(256) } else { CHUNK };
            self.chunks.push(Vec::with_capacity(cap));
        }
        let idx = self.chunks.len() - 1;
        let Some(c) = self.chunks.last_mut() else { return u64::MAX };
        let at = (idx * CHUNK + c.len()) as u64;
        c.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        c.extend_from_slice(bytes);
        at
    }

    /// The total length and body of the entry at `at` (empty when out of range).
    fn entry(&self, at: u64) -> (u64, &[u8]) {
        let (ci, pos) = ((at as usize) / CHUNK, (at as usize) % CHUNK);
        let Some(c) = self.chunks.get(ci) else { return (2, &[]) };
        let len = c.get(pos..pos + 2).and_then(|b| <[u8; 2]>::try_from(b).ok()).map_or(0, u16::from_le_bytes);
        let len = usize::from(len);
        (2 + len as u64, c.get(pos + 2..pos + 2 + len).unwrap_or_default())
    }
}

/// The last settlement of each trace code of one rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TraceStore {
    digits: Vec<FxHashMap<u64, Last>>,
    other: FxHashMap<Box<str>, Last>,
    facs: Vec<Box<str>>,
    fac_ids: FxHashMap<Box<str>, u32>,
    arena: Arena,
    /// Arena bytes still referenced.
    live: u64,
}

impl Default for TraceStore {
    fn default() -> Self {
        TraceStore {
            digits: (0..SHARDS).map(|_| FxHashMap::default()).collect(),
            other: FxHashMap::default(),
            facs: Vec::new(),
            fac_ids: FxHashMap::default(),
            arena: Arena::default(),
            live: 0,
        }
    }
}

/// A digit code's key (low 64 bits of its value) and tag (length × 8 + the bits above 64),
/// when it is all digits, 1–21 of them, with a value below 2^67. The tag is never 0.
fn pack(code: &str) -> Option<(u64, u8)> {
    let b = code.as_bytes();
    if b.is_empty() || b.len() > 21 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = b.iter().fold(0u128, |v, d| v * 10 + u128::from(d - b'0'));
    let hi = v >> 64;
    (hi < 8).then_some((v as u64, ((b.len() as u8) << 3) | hi as u8))
}

fn unpack(lo: u64, tag: u8) -> String {
    let len = usize::from(tag >> 3);
    let v = (u128::from(tag & 7) << 64) | u128::from(lo);
    format!("{v:0len$}")
}

fn shard(lo: u64) -> usize {
    (lo % SHARDS as u64) as usize
}

impl TraceStore {
    /// Number of codes held.
    pub fn len(&self) -> usize {
        self.digits.iter().map(|d| d.len()).sum::<usize>() + self.other.len()
    }

    fn last(&self, code: &str) -> Option<Last> {
        if let Some((lo, tag)) = pack(code) {
            if let Some(l) = self.digits.get(shard(lo)).and_then(|d| d.get(&lo)) {
                if l.tag() == tag {
                    return Some(*l);
                }
            }
        }
        self.other.get(code).copied()
    }

    /// The last settlement of `code`, if any.
    pub fn get(&self, code: &str) -> Option<Sale> {
        let l = self.last(code)?;
        let sn = std::str::from_utf8(self.arena.entry(l.at()).1).unwrap_or_default();
        Some(Sale {
            fac: (l.fac() != NO_FAC).then(|| self.facs.get(l.fac() as usize).cloned()).flatten(),
            time: l.time,
            sn: (!sn.is_empty()).then(|| sn.into()),
        })
    }

    /// Whether `code` has a recorded settlement.
    pub fn contains(&self, code: &str) -> bool {
        self.last(code).is_some()
    }

    /// Records `sale` as the last settlement of `code`.
    pub fn put(&mut self, code: &str, sale: &Sale) -> Result<()> {
        self.record(code, sale.time, sale.fac.as_deref(), sale.sn.as_deref())
    }

    /// Records a settlement of `code` from its parts.
    pub fn record(&mut self, code: &str, time: i64, fac: Option<&str>, sn: Option<&str>) -> Result<()> {
        let fac = match fac {
            None => NO_FAC,
            Some(f) => match self.fac_ids.get(f) {
                Some(&i) => i,
                None if self.facs.len() >= NO_FAC as usize => NO_FAC,
                None => {
                    let i = self.facs.len() as u32;
                    self.facs.push(f.into());
                    self.fac_ids.insert(f.into(), i);
                    i
                }
            },
        };
        let sn = sn.unwrap_or("").as_bytes();
        let at = self.arena.push(sn);
        if at >= 1 << AT_BITS {
            return Err(Error::Argument {
                argument: "auditor state".into(),
                message: "trace-code state holds 16 GiB of line ids; set retention_days on the trace rule".into(),
            });
        }
        self.live += self.arena.entry(at).0;
        let old = match pack(code) {
            Some((lo, tag)) => match self.digits.get_mut(shard(lo)) {
                Some(d) => match d.get_mut(&lo) {
                    Some(l) if l.tag() == tag => Some(std::mem::replace(l, Last::new(time, at, fac, tag))),
                    // Another code with the same low 64 bits holds the slot: keep this one by name.
                    Some(_) => self.other.insert(code.into(), Last::new(time, at, fac, 0)),
                    None => d.insert(lo, Last::new(time, at, fac, tag)),
                },
                None => None,
            },
            None => self.other.insert(code.into(), Last::new(time, at, fac, 0)),
        };
        if let Some(o) = old {
            self.live -= self.arena.entry(o.at()).0.min(self.live);
        }
        Ok(())
    }

    /// Keeps the codes whose last settlement time passes `keep`; compacts the arena when more
    /// than half of it is holes.
    pub fn retain(&mut self, keep: impl Fn(i64) -> bool) {
        let mut freed = 0;
        let arena = &self.arena;
        let len_at = |at: u64| arena.entry(at).0;
        let mut drop = |l: &Last| {
            keep(l.time) || {
                freed += len_at(l.at());
                false
            }
        };
        for d in &mut self.digits {
            d.retain(|_, l| drop(l));
        }
        self.other.retain(|_, l| drop(l));
        self.live -= freed.min(self.live);
        if self.live * 2 < self.arena.len() {
            self.compact();
        }
    }

    fn compact(&mut self) {
        let old = std::mem::take(&mut self.arena);
        let mut arena = Arena::default();
        let mut move_one = |l: &mut Last| *l = l.with_at(arena.push(old.entry(l.at()).1));
        self.digits.iter_mut().for_each(|d| d.values_mut().for_each(&mut move_one));
        self.other.values_mut().for_each(&mut move_one);
        self.live = arena.len();
        self.arena = arena;
    }
}

/// One code in the exported form: (code, time, facility, feedetl_sn).
type CodeRow = (String, i64, Option<String>, Option<String>);

/// The exported form: plain lists, codes as strings.
#[derive(Serialize, Deserialize)]
struct Repr {
    codes: Vec<CodeRow>,
}

impl Serialize for TraceStore {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut codes: Vec<CodeRow> = Vec::with_capacity(self.len());
        let keys = self
            .digits
            .iter()
            .flat_map(|d| d.iter().map(|(lo, l)| unpack(*lo, l.tag())))
            .chain(self.other.keys().map(|k| k.to_string()));
        for code in keys {
            if let Some(sale) = self.get(&code) {
                codes.push((code, sale.time, sale.fac.map(|f| f.to_string()), sale.sn.map(|f| f.to_string())));
            }
        }
        codes.sort();
        Repr { codes }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for TraceStore {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let r = Repr::deserialize(d)?;
        let mut t = TraceStore::default();
        for (code, time, fac, sn) in r.codes {
            t.record(&code, time, fac.as_deref(), sn.as_deref()).map_err(serde::de::Error::custom)?;
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sale(t: i64, fac: &str, sn: &str) -> Sale {
        Sale { fac: Some(fac.into()), time: t, sn: Some(sn.into()) }
    }

    #[test]
    fn codes_round_trip_and_compaction_keeps_them() {
        assert_eq!(pack("0012").map(|(lo, t)| unpack(lo, t)).as_deref(), Some("0012"));
        assert_ne!(pack("12"), pack("012"));
        assert_eq!(pack("8100000000000000000123"), None);
        let big = "99999999999999999999";
        assert_eq!(pack(big).map(|(lo, t)| unpack(lo, t)).as_deref(), Some(big));
        let mut t = TraceStore::default();
        t.put("81000000000000000001", &sale(10, "H1", "L1")).unwrap();
        t.put("ABC-1", &sale(20, "H2", "L2")).unwrap();
        t.put("81000000000000000001", &sale(30, "H3", "L3")).unwrap();
        // Same low 64 bits, different high bits: both kept, apart.
        let (lo, _) = pack("81000000000000000001").unwrap();
        let twin = (u128::from(lo) + (1u128 << 64)).to_string();
        t.put(&twin, &sale(40, "H4", "L4")).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.get("81000000000000000001"), Some(sale(30, "H3", "L3")));
        assert_eq!(t.get(&twin), Some(sale(40, "H4", "L4")));
        assert_eq!(t.get("ABC-1"), Some(sale(20, "H2", "L2")));
        assert_eq!(t.get("81000000000000000002"), None);
        t.retain(|time| time > 35);
        assert_eq!(t.len(), 1);
        assert_eq!(t.get("81000000000000000001"), None);
        assert_eq!(t.get(&twin), Some(sale(40, "H4", "L4")));
        assert_eq!(t.arena.len(), t.live, "compacted");
        let json = serde_json::to_string(&t).unwrap();
        let back: TraceStore = serde_json::from_str(&json).unwrap();
        assert_eq!(back.get(&twin), t.get(&twin));
        assert_eq!(back.len(), 1);
    }
}
