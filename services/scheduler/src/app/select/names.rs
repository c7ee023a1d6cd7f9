//! Resource class and trait names as small numbers for the host cache.
//! `select` examines a thousand nodes per request; comparing numbers in
//! a node's own short arrays, instead of looking strings up in maps
//! spread over the heap, is most of what keeps that walk cheap. Names
//! are interned process-wide and never forgotten: there are only the
//! standard ones and the custom ones operators create.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

/// An interned class or trait name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(u32);

#[derive(Default)]
struct Table {
    ids: HashMap<String, u32>,
}

fn table() -> &'static RwLock<Table> {
    static TABLE: OnceLock<RwLock<Table>> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

impl Name {
    /// The name's number, interning it if new.
    pub fn of(name: &str) -> Name {
        if let Some(n) = Name::find(name) {
            return n;
        }
        let mut t = table().write().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = t.ids.get(name) {
            return Name(id);
        }
        let id = t.ids.len() as u32;
        t.ids.insert(name.to_owned(), id);
        Name(id)
    }

    /// The name's number if it was ever interned (a name no provider
    /// has had cannot match any).
    pub fn find(name: &str) -> Option<Name> {
        let t = table().read().unwrap_or_else(|e| e.into_inner());
        t.ids.get(name).copied().map(Name)
    }
}

/// Names as a sorted, deduplicated list (a provider's traits).
pub fn sorted<'a>(names: impl IntoIterator<Item = &'a str>) -> Box<[Name]> {
    let mut v: Vec<Name> = names.into_iter().map(Name::of).collect();
    v.sort_unstable();
    v.dedup();
    v.into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_keeps_its_number() {
        let a = Name::of("CUSTOM_NAMES_TEST_A");
        assert_eq!(Name::of("CUSTOM_NAMES_TEST_A"), a);
        assert_ne!(Name::of("CUSTOM_NAMES_TEST_B"), a);
        assert_eq!(Name::find("CUSTOM_NAMES_TEST_NEVER"), None);
        let s = sorted([
            "CUSTOM_NAMES_TEST_B",
            "CUSTOM_NAMES_TEST_A",
            "CUSTOM_NAMES_TEST_B",
        ]);
        assert_eq!(s.len(), 2);
        assert!(s[0] < s[1]);
    }
}
