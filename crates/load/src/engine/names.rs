//! The run's endpoint and check tables: fixed by a plan when it is compiled, grown by a script as
//! it runs (a script's URLs and check names are only known when its code runs).

use std::collections::HashMap;
use std::sync::Mutex;

use scalelab_metrics::{Endpoint, EndpointId};

/// Distinct endpoints a run may have. A script that builds a new URL per request (`/users/${id}`)
/// without a `name` tag would otherwise grow the table without bound; past this, requests are
/// grouped under one endpoint named [`OTHER`] (k6 warns about the same, as "too many time series").
pub const MAX_ENDPOINTS: usize = 10_000;
/// Distinct check names a run may have (as [`MAX_ENDPOINTS`], for the same reason).
pub const MAX_CHECKS: usize = 10_000;
/// The name of the endpoint that takes every request past [`MAX_ENDPOINTS`].
pub const OTHER: &str = "(other: more than 10000 distinct names; set tags.name)";

/// Endpoint and check names, each with its index in the run's results.
#[derive(Debug, Default)]
pub struct Names {
    endpoints: Mutex<Table<Endpoint>>,
    checks: Mutex<Table<String>>,
}

#[derive(Debug)]
struct Table<T> {
    items: Vec<T>,
    index: HashMap<T, usize>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<T: Clone + Eq + std::hash::Hash> Table<T> {
    fn id(&mut self, item: T, limit: usize, other: impl FnOnce() -> T) -> usize {
        if let Some(&id) = self.index.get(&item) {
            return id;
        }
        let item = if self.items.len() + 1 >= limit {
            other()
        } else {
            item
        };
        *self.index.entry(item.clone()).or_insert_with(|| {
            self.items.push(item);
            self.items.len() - 1
        })
    }
}

impl Names {
    /// The id of `endpoint`, added if new.
    pub fn endpoint(&self, endpoint: Endpoint) -> EndpointId {
        let mut table = self.endpoints.lock().expect("names lock");
        let id = table.id(endpoint.clone(), MAX_ENDPOINTS, || Endpoint {
            name: OTHER.to_owned(),
            tags: Vec::new(),
            ..endpoint
        });
        EndpointId(id as u32)
    }

    /// The id of the check named `name`, added if new.
    pub fn check(&self, name: &str) -> usize {
        let mut table = self.checks.lock().expect("names lock");
        table.id(name.to_owned(), MAX_CHECKS, || OTHER.to_owned())
    }

    /// Every endpoint so far, in id order.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.endpoints.lock().expect("names lock").items.clone()
    }

    /// Every check name so far, in id order.
    pub fn checks(&self) -> Vec<String> {
        self.checks.lock().expect("names lock").items.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(name: &str) -> Endpoint {
        Endpoint {
            scenario: "default".into(),
            name: name.into(),
            method: "GET".into(),
            tags: Vec::new(),
        }
    }

    #[test]
    fn ids_are_stable_and_the_table_is_bounded() {
        let names = Names::default();
        assert_eq!(names.endpoint(endpoint("a")), EndpointId(0));
        assert_eq!(names.endpoint(endpoint("b")), EndpointId(1));
        assert_eq!(names.endpoint(endpoint("a")), EndpointId(0));
        for i in 0..2 * MAX_ENDPOINTS {
            names.endpoint(endpoint(&format!("/users/{i}")));
        }
        let all = names.endpoints();
        // MAX - 1 own names, and the last slot is the shared one.
        assert_eq!(all.len(), MAX_ENDPOINTS);
        // 'a' and 'b' hold ids 0 and 1, so '/users/i' holds id i + 2.
        assert_eq!(
            all[MAX_ENDPOINTS - 2].name,
            format!("/users/{}", MAX_ENDPOINTS - 4)
        );
        assert_eq!(all.last().unwrap().name, OTHER);
        assert_eq!(names.check("status is 200"), 0);
        assert_eq!(names.check("status is 200"), 0);
        assert_eq!(names.checks(), ["status is 200"]);
    }
}
