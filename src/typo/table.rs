//! Compact string tables for the detector's index, cheap to build.
//!
//! The index over the built-in list holds about 200,000 keys, most of them the spellings of a
//! popular name with one letter removed. Building it was the start-up cost of every process:
//! as `HashMap<Box<str>, Vec<u32>>` it took 65 ms, two heap allocations per key and a hash
//! table probed at random; a hash table over keys stored in one buffer still took 30 ms, the
//! random probes into megabytes of table being most of it. [`StrTable`] is built in one go
//! instead, and stores no key: each key is a function of the popular name it was made from
//! (its spelling without separators, less one letter, ...), so a posting is just `(hash, id,
//! aux)`, the id naming the popular name and `aux` a detail such as which letter was removed.
//! The postings are put in order of hash by a counting sort, two sequential passes. A lookup
//! hashes the key, reads the postings of its bucket (two or three on average, contiguous), and
//! the caller confirms each posting whose hash matches by rebuilding its key, so answers are
//! exact whatever the hash.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

/// A fixed seed keeps runs reproducible. Only popular names are ever inserted, so a query
/// crafted to collide costs that one lookup a few comparisons, and it cannot change an answer.
const HASHER: FixedState = FixedState::with_seed(0x6d6c_7375_7070_6c79);

pub(super) fn hash(key: &str) -> u64 {
    HASHER.hash_one(key)
}

/// An index into a table. Each counts a key or a name of a popular list, and
/// [`super::Corpus::from_tsv`] caps a list at 64 MiB, so they stay far below `u32::MAX`.
pub(super) fn index(n: usize) -> u32 {
    u32::try_from(n).expect("string table with over 4 billion entries")
}

/// Strings stored back to back, each named by its index.
#[derive(Clone, Debug, Default)]
pub(super) struct Strings {
    text: String,
    /// Where each string ends in `text`; it starts where the one before ends. (The text can
    /// outgrow 4 GiB: a list of long names has quadratically many bytes of deletions.)
    ends: Vec<usize>,
}

impl Strings {
    pub fn with_capacity(strings: usize, bytes: usize) -> Strings {
        Strings {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(strings),
        }
    }

    /// Stores `s` and returns its index.
    pub fn push(&mut self, s: &str) -> u32 {
        self.text.push_str(s);
        self.ends.push(self.text.len());
        index(self.ends.len() - 1)
    }

    pub fn get(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..index(self.len())).map(|i| self.get(i))
    }
}

/// Distinct strings, each named by its index, and found by value.
#[derive(Clone, Debug, Default)]
pub(super) struct Interner {
    strings: Strings,
    /// Indices into `strings`, hashed by the string.
    by_value: HashTable<u32>,
}

impl Interner {
    pub fn with_capacity(strings: usize, bytes: usize) -> Interner {
        Interner {
            strings: Strings::with_capacity(strings, bytes),
            by_value: HashTable::with_capacity(strings),
        }
    }

    /// The index of `s`, stored first if new; `true` when it was.
    pub fn intern(&mut self, s: &str) -> (u32, bool) {
        let strings = &mut self.strings;
        match self
            .by_value
            .entry(hash(s), |&i| strings.get(i) == s, |&i| hash(strings.get(i)))
        {
            Entry::Occupied(entry) => (*entry.get(), false),
            Entry::Vacant(entry) => (*entry.insert(strings.push(s)).get(), true),
        }
    }

    pub fn find(&self, s: &str) -> Option<u32> {
        self.by_value
            .find(hash(s), |&i| self.strings.get(i) == s)
            .copied()
    }

    pub fn contains(&self, s: &str) -> bool {
        self.find(s).is_some()
    }

    pub fn get(&self, i: u32) -> &str {
        self.strings.get(i)
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.strings.iter()
    }
}

/// One key of a table: the hash of the key, and what the key was made from.
#[derive(Clone, Copy, Debug)]
struct Posting {
    hash: u64,
    id: u32,
    aux: u32,
}

/// Collects the postings of a [`StrTable`].
#[derive(Debug, Default)]
pub(super) struct StrTableBuilder {
    postings: Vec<Posting>,
}

impl StrTableBuilder {
    pub fn with_capacity(postings: usize) -> StrTableBuilder {
        StrTableBuilder {
            postings: Vec::with_capacity(postings),
        }
    }

    /// Files `(id, aux)` under `key`; the key itself is not kept. A key's postings are stored,
    /// and found, in the order they are added.
    pub fn insert(&mut self, key: &str, id: u32, aux: u32) {
        self.postings.push(Posting {
            hash: hash(key),
            id,
            aux,
        });
    }

    pub fn build(self) -> StrTable {
        // About two postings per bucket: a lookup reads one cache line or two.
        let bits = self.postings.len().max(4).ilog2().min(25) - 1;
        let buckets = 1usize << bits;
        let bucket = |hash: u64| (hash >> (64 - bits)) as usize;
        // A counting sort by bucket. It is stable, so a key's ids keep their order.
        let mut starts = vec![0u32; buckets + 1];
        for posting in &self.postings {
            starts[bucket(posting.hash) + 1] += 1;
        }
        for b in 0..buckets {
            starts[b + 1] += starts[b];
        }
        let mut next = starts.clone();
        let empty = Posting {
            hash: 0,
            id: 0,
            aux: 0,
        };
        let mut sorted = vec![empty; self.postings.len()];
        for posting in self.postings {
            let slot = &mut next[bucket(posting.hash)];
            sorted[*slot as usize] = posting;
            *slot += 1;
        }
        StrTable {
            postings: sorted,
            starts,
            bits,
        }
    }
}

/// A multimap from strings to `(id, aux)` pairs, read-only once built ([`StrTableBuilder`]).
#[derive(Clone, Debug)]
pub(super) struct StrTable {
    /// Ordered by bucket (the top `bits` bits of the hash).
    postings: Vec<Posting>,
    /// The postings of bucket `b` are `postings[starts[b]..starts[b + 1]]`.
    starts: Vec<u32>,
    bits: u32,
}

impl Default for StrTable {
    fn default() -> StrTable {
        StrTableBuilder::default().build()
    }
}

impl StrTable {
    /// The ids filed under `key`, in the order they were added. `is_key(id, aux)` says whether
    /// the key made from `(id, aux)` is `key`: it is asked only when the hashes match.
    pub fn get<'a>(
        &'a self,
        key: &str,
        is_key: impl Fn(u32, u32) -> bool + 'a,
    ) -> impl Iterator<Item = u32> + 'a {
        let hash = hash(key);
        let b = (hash >> (64 - self.bits)) as usize;
        let bucket = &self.postings[self.starts[b] as usize..self.starts[b + 1] as usize];
        bucket
            .iter()
            .filter(move |p| p.hash == hash && is_key(p.id, p.aux))
            .map(|p| p.id)
    }

    /// How many postings the table holds.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.postings.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_come_back_by_index() {
        let mut strings = Strings::default();
        assert_eq!(strings.push("requests"), 0);
        assert_eq!(strings.push(""), 1);
        assert_eq!(strings.push("numpy"), 2);
        assert_eq!(strings.get(0), "requests");
        assert_eq!(strings.get(1), "");
        assert_eq!(strings.get(2), "numpy");
        assert_eq!(
            strings.iter().collect::<Vec<_>>(),
            ["requests", "", "numpy"]
        );
    }

    #[test]
    fn interned_strings_are_stored_once() {
        let mut interner = Interner::with_capacity(1, 1);
        assert_eq!(interner.intern("flask"), (0, true));
        assert_eq!(interner.intern("core"), (1, true));
        assert_eq!(interner.intern("flask"), (0, false));
        assert_eq!(interner.len(), 2);
        assert_eq!(interner.find("core"), Some(1));
        assert_eq!(interner.find("cor"), None);
        assert!(interner.contains("flask"));
        assert_eq!(interner.get(1), "core");
        assert_eq!(interner.iter().collect::<Vec<_>>(), ["flask", "core"]);
        // Past the first capacity.
        for i in 0..1000 {
            assert_eq!(interner.intern(&format!("w{i}")), (i + 2, true));
        }
        assert_eq!(interner.find("w999"), Some(1001));
    }

    /// A table whose keys are the prefixes of `names`: `(id, n)` stands for the first `n`
    /// bytes of `names[id]`.
    fn prefix_table(names: &[&str]) -> StrTable {
        let mut builder = StrTableBuilder::default();
        for (id, name) in (0..).zip(names) {
            for n in (0..=name.len()).rev() {
                builder.insert(&name[..n], id, n as u32);
            }
        }
        builder.build()
    }

    #[test]
    fn ids_keep_insertion_order_per_key() {
        let names = ["requests", "numpy", "req", "requests"];
        let table = prefix_table(&names);
        let get = |key: &str| {
            table
                .get(key, |id, n| &names[id as usize][..n as usize] == key)
                .collect::<Vec<_>>()
        };
        assert_eq!(table.len(), 9 + 6 + 4 + 9);
        assert_eq!(get("requests"), [0, 3]);
        assert_eq!(get("req"), [0, 2, 3]);
        assert_eq!(get("num"), [1]);
        assert_eq!(get(""), [0, 1, 2, 3]);
        assert!(get("requestss").is_empty());
        assert!(get("pandas").is_empty());
    }

    #[test]
    fn empty_tables_answer_nothing() {
        let table = StrTable::default();
        assert_eq!(table.get("", |_, _| true).count(), 0);
        let table = StrTableBuilder::with_capacity(10).build();
        assert_eq!(table.get("numpy", |_, _| true).count(), 0);
    }

    #[test]
    fn a_matching_hash_alone_is_not_a_match() {
        let mut builder = StrTableBuilder::default();
        builder.insert("requests", 1, 0);
        let table = builder.build();
        assert_eq!(table.get("requests", |_, _| true).collect::<Vec<_>>(), [1]);
        assert_eq!(table.get("requests", |_, _| false).count(), 0);
    }

    #[test]
    fn large_tables_find_every_key_and_only_those() {
        let keys: Vec<String> = (0..20_000).map(|i| format!("name{i}")).collect();
        let mut builder = StrTableBuilder::with_capacity(2);
        for (i, key) in (0..).zip(&keys) {
            builder.insert(key, i, 0);
        }
        for (i, key) in (0..20_000).zip(&keys).rev() {
            builder.insert(key, i, 1);
        }
        let table = builder.build();
        assert_eq!(table.len(), 40_000);
        let get = |key: &str| {
            table
                .get(key, |id, _| keys[id as usize] == key)
                .collect::<Vec<_>>()
        };
        for (i, key) in (0..).zip(&keys) {
            assert_eq!(get(key), [i, i], "{key}");
        }
        assert!(get("name20000").is_empty());
        assert!(get("name-1").is_empty());
    }
}
