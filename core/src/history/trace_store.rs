//! Compact state of trace-code rules: the last settlement of every trace code seen.
//!
//! This is most of a long stream's memory, so it is packed: a national trace code (all digits, up
//! to 36 of them; the national 药品追溯码 has 20) is the key itself as a `u128`, any other code a
//! boxed string in a second map; the facility is interned to 24 bits; the line and encounter ids
//! (`feedetl_sn`, `mdtrt_id`, for the finding's related line and message) go to a byte arena.
//!
//! One code costs a 32-byte map entry (key 16, time 8, arena offset and facility 8) plus one
//! control byte, divided by the table's load (44–88%), plus its ids in the arena (3 + their
//! length). The digit map is split into [`SHARDS`] tables so that growing one never holds two
//! copies of the whole set, and the arena grows in fixed chunks (never reallocated or copied).
//! Dropped codes leave holes in the arena; it is compacted when holes are more than half of it.

use crate::engine::codes::FxHashMap;
use crate::templates::history::Sale;
use serde::{Deserialize, Serialize};

/// 16 bytes: the time, and the arena offset (low 40 bits) with the facility (high 24 bits).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Last {
    time: i64,
    packed: u64,
}

/// Facility id meaning unknown (24 bits all set); ids above it share the last id's name.
const NO_FAC: u32 = (1 << 24) - 1;
const AT_BITS: u32 = 40;

impl Last {
    fn new(time: i64, at: u64, fac: u32) -> Self {
        Last { time, packed: (u64::from(fac.min(NO_FAC)) << AT_BITS) | (at & ((1 << AT_BITS) - 1)) }
    }
    /// Offset in the arena of `[len: u16 LE][sn 0x1f mdtrt]`.
    fn at(self) -> u64 {
        self.packed & ((1 << AT_BITS) - 1)
    }
    fn fac(self) -> u32 {
        (self.packed >> AT_BITS) as u32
    }
    fn with_at(self, at: u64) -> Self {
        Last::new(self.time, at, self.fac())
    }
}
const SEP: u8 = 0x1f;

/// Number of digit-code tables.
pub(crate) const SHARDS: usize = 64;
/// Bytes per arena chunk.
const CHUNK: usize = 1 << 24;

/// Append-only bytes in fixed chunks; an offset is `chunk * CHUNK + position`.
#[derive(Debug, Clone, Default, PartialEq)]
struct Arena {
    chunks: Vec<Vec<u8>>,
}

impl Arena {
    fn len(&self) -> u64 {
        self.chunks.iter().map(|c| c.len() as u64).sum()
    }

    /// Appends `[len u16][a][sep][b]` and returns its offset.
    fn push(&mut self, a: &[u8], b: &[u8]) -> u64 {
        let n = 2 + a.len() + 1 + b.len();
        let fits = self.chunks.last().is_some_and(|c| c.len() + n <= CHUNK);
        if !fits {
            // The first chunk grows on demand (small stores stay small); later ones are whole.
            let cap = if self.chunks.is_empty() { n.max(256) } else { CHUNK };
            self.chunks.push(Vec::with_capacity(cap));
        }
        let idx = self.chunks.len() - 1;
        let Some(c) = self.chunks.last_mut() else { return u64::MAX };
        let at = (idx * CHUNK + c.len()) as u64;
        c.extend_from_slice(&((n - 2) as u16).to_le_bytes());
        c.extend_from_slice(a);
        c.push(SEP);
        c.extend_from_slice(b);
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
    digits: Vec<FxHashMap<u128, Last>>,
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

/// The shard of a packed digit code: its value modulo the shard count (the last digits).
fn shard(k: u128) -> usize {
    ((k & ((1u128 << 120) - 1)) % SHARDS as u128) as usize
}

/// A code of at most 36 ASCII digits, packed with its length (so leading zeros count).
fn pack(code: &str) -> Option<u128> {
    let b = code.as_bytes();
    if b.is_empty() || b.len() > 36 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = b.iter().fold(0u128, |v, d| v * 10 + u128::from(d - b'0'));
    Some(((b.len() as u128) << 120) | v)
}

fn unpack(k: u128) -> String {
    let len = (k >> 120) as usize;
    let v = k & ((1u128 << 120) - 1);
    format!("{v:0len$}")
}

impl TraceStore {
    /// Number of codes held.
    pub fn len(&self) -> usize {
        self.digits.iter().map(|d| d.len()).sum::<usize>() + self.other.len()
    }

    fn last(&self, code: &str) -> Option<Last> {
        match pack(code) {
            Some(k) => self.digits.get(shard(k)).and_then(|d| d.get(&k)).copied(),
            None => self.other.get(code).copied(),
        }
    }

    fn ids(&self, at: u64) -> (&str, &str) {
        let s = std::str::from_utf8(self.arena.entry(at).1).unwrap_or_default();
        s.split_once(char::from(SEP)).unwrap_or((s, ""))
    }

    /// The last settlement of `code`, if any.
    pub fn get(&self, code: &str) -> Option<Sale> {
        let l = self.last(code)?;
        let (sn, mdtrt) = self.ids(l.at());
        Some(Sale {
            fac: (l.fac() != NO_FAC).then(|| self.facs.get(l.fac() as usize).cloned()).flatten(),
            time: l.time,
            sn: (!sn.is_empty()).then(|| sn.into()),
            mdtrt: mdtrt.into(),
        })
    }

    /// Whether `code` has a recorded settlement.
    pub fn contains(&self, code: &str) -> bool {
        self.last(code).is_some()
    }

    /// Records `sale` as the last settlement of `code`.
    pub fn put(&mut self, code: &str, sale: &Sale) {
        self.record(code, sale.time, sale.fac.as_deref(), sale.sn.as_deref(), &sale.mdtrt);
    }

    /// Records a settlement of `code` from its parts.
    pub fn record(&mut self, code: &str, time: i64, fac: Option<&str>, sn: Option<&str>, mdtrt: &str) {
        let fac = match fac {
            None => NO_FAC,
            Some(f) => match self.fac_ids.get(f) {
                Some(&i) => i,
                // More than 2^24 - 1 facilities (none in China) cannot be told apart: refuse
                // to guess and record the facility as unknown (the repeat is then unjudged).
                None if self.facs.len() >= NO_FAC as usize => NO_FAC,
                None => {
                    let i = self.facs.len() as u32;
                    self.facs.push(f.into());
                    self.fac_ids.insert(f.into(), i);
                    i
                }
            },
        };
        // Ids longer than the u16 length allows are cut; national ids are far shorter.
        let sn = sn.unwrap_or("").as_bytes();
        let sn = sn.get(..sn.len().min(32_000)).unwrap_or_default();
        let md = mdtrt.as_bytes();
        let md = md.get(..md.len().min(32_000)).unwrap_or_default();
        let at = self.arena.push(sn, md);
        self.live += 3 + (sn.len() + md.len()) as u64;
        let new = Last::new(time, at, fac);
        let old = match pack(code) {
            Some(k) => match self.digits.get_mut(shard(k)) {
                Some(d) => d.insert(k, new),
                None => None,
            },
            None => self.other.insert(code.into(), new),
        };
        if let Some(o) = old {
            self.live -= self.arena.entry(o.at()).0.min(self.live);
        }
    }

    /// Keeps the codes whose last settlement time passes `keep`; compacts the arena when more
    /// than half of it is holes.
    pub fn retain(&mut self, keep: impl Fn(i64) -> bool) {
        let mut freed = 0;
        let arena = &self.arena;
        let len_at = |at: u64| arena.entry(at).0;
        for d in &mut self.digits {
            d.retain(|_, l| {
                keep(l.time) || {
                    freed += len_at(l.at());
                    false
                }
            });
        }
        self.other.retain(|_, l| {
            keep(l.time) || {
                freed += len_at(l.at());
                false
            }
        });
        self.live -= freed.min(self.live);
        if self.live * 2 < self.arena.len() {
            self.compact();
        }
    }

    fn compact(&mut self) {
        let old = std::mem::take(&mut self.arena);
        let mut arena = Arena::default();
        let mut move_one = |l: &mut Last| {
            let body = old.entry(l.at()).1;
            let (a, b) = match body.iter().position(|c| *c == SEP) {
                Some(i) => (body.get(..i).unwrap_or_default(), body.get(i + 1..).unwrap_or_default()),
                None => (body, &[][..]),
            };
            *l = l.with_at(arena.push(a, b));
        };
        self.digits.iter_mut().for_each(|d| d.values_mut().for_each(&mut move_one));
        self.other.values_mut().for_each(&mut move_one);
        self.live = arena.len();
        self.arena = arena;
    }
}

/// One code in the exported form: (code, time, facility, feedetl_sn, mdtrt_id).
type CodeRow = (String, i64, Option<String>, Option<String>, String);

/// The exported form: plain lists, codes as strings.
#[derive(Serialize, Deserialize)]
struct Repr {
    codes: Vec<CodeRow>,
}

impl Serialize for TraceStore {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut codes: Vec<CodeRow> = Vec::with_capacity(self.len());
        let keys = self
            .digits
            .iter()
            .flat_map(|d| d.keys().map(|k| unpack(*k)))
            .chain(self.other.keys().map(|k| k.to_string()));
        for code in keys {
            if let Some(sale) = self.get(&code) {
                codes.push((
                    code,
                    sale.time,
                    sale.fac.map(|f| f.to_string()),
                    sale.sn.map(|f| f.to_string()),
                    sale.mdtrt.to_string(),
                ));
            }
        }
        codes.sort();
        Repr { codes }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for TraceStore {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = Repr::deserialize(d)?;
        let mut t = TraceStore::default();
        for (code, time, fac, sn, mdtrt) in r.codes {
            t.put(&code, &Sale { fac: fac.map(Into::into), time, sn: sn.map(Into::into), mdtrt: mdtrt.into() });
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sale(t: i64, fac: &str, sn: &str) -> Sale {
        Sale { fac: Some(fac.into()), time: t, sn: Some(sn.into()), mdtrt: format!("M{sn}").into() }
    }

    #[test]
    fn codes_round_trip_and_compaction_keeps_them() {
        assert_eq!(pack("0012").map(unpack).as_deref(), Some("0012"));
        assert_ne!(pack("12"), pack("012"));
        assert_eq!(pack("8100000000000000000123456789012345678"), None);
        let mut t = TraceStore::default();
        t.put("81000000000000000001", &sale(10, "H1", "L1"));
        t.put("ABC-1", &sale(20, "H2", "L2"));
        t.put("81000000000000000001", &sale(30, "H3", "L3"));
        assert_eq!(t.len(), 2);
        assert_eq!(t.get("81000000000000000001"), Some(sale(30, "H3", "L3")));
        assert_eq!(t.get("ABC-1"), Some(sale(20, "H2", "L2")));
        assert_eq!(t.get("81000000000000000002"), None);
        t.retain(|time| time > 25);
        assert_eq!(t.len(), 1);
        assert_eq!(t.get("81000000000000000001"), Some(sale(30, "H3", "L3")));
        assert_eq!(t.arena.len(), t.live, "compacted");
        let json = serde_json::to_string(&t).unwrap();
        let back: TraceStore = serde_json::from_str(&json).unwrap();
        assert_eq!(back.get("81000000000000000001"), t.get("81000000000000000001"));
        assert_eq!(back.len(), 1);
    }
}
