//! Schema safety on restore: state stored under another schema hash than
//! the registered function's is refused, unless the application supplied a
//! migration from that hash (issue "Durable snapshots", item 7).

use std::collections::HashMap;
use std::sync::Arc;

use cairn_core::{Registry, ShardSnapshot, StatefulFunction};
use cairn_persistence::TypeSchema;

use crate::error::NodeError;

/// Turns state stored under an old schema into the current one's bytes.
type Migration = Arc<dyn Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync>;

/// The migrations an application registered, by (function type, stored
/// schema hash).
#[derive(Clone, Default)]
pub(crate) struct Migrations {
    by_source: HashMap<(String, u64), Migration>,
}

impl Migrations {
    /// Registers a migration of `F`'s state stored under schema hash `from`.
    pub(crate) fn add<F: StatefulFunction>(
        &mut self,
        from: u64,
        migrate: impl Fn(&[u8]) -> Result<F, String> + Send + Sync + 'static,
    ) {
        let migration: Migration = Arc::new(move |bytes| {
            let state = migrate(bytes)?;
            rmp_serde::to_vec_named(&state).map_err(|error| error.to_string())
        });
        self.by_source
            .insert((F::TYPE_NAME.to_owned(), from), migration);
    }
}

impl std::fmt::Debug for Migrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.by_source.keys()).finish()
    }
}

/// Checks stored parts against the registered functions.
pub(crate) struct SchemaCheck {
    current: HashMap<&'static str, u64>,
    migrations: Migrations,
}

impl SchemaCheck {
    pub(crate) fn new(registry: &Registry, migrations: Migrations) -> Self {
        let current = registry
            .functions()
            .into_iter()
            .map(|function| (function.function_type().name(), function.schema_hash()))
            .collect();
        Self {
            current,
            migrations,
        }
    }

    /// Admits a part written with the schemas `stored`: migrates the states
    /// of any function whose schema changed and has a migration, and refuses
    /// one that has none.
    pub(crate) fn admit(
        &self,
        stored: &[TypeSchema],
        part: &mut ShardSnapshot,
    ) -> Result<(), NodeError> {
        for schema in stored {
            let Some(&current) = self.current.get(schema.type_name.as_str()) else {
                continue;
            };
            if current == schema.schema_hash {
                continue;
            }
            let key = (schema.type_name.clone(), schema.schema_hash);
            let Some(migration) = self.migrations.by_source.get(&key) else {
                return Err(NodeError::SchemaMismatch {
                    function: schema.type_name.clone(),
                    stored: schema.schema_hash,
                    current,
                });
            };
            for actor in &mut part.actors {
                if actor.address.function().name() == schema.type_name {
                    actor.state =
                        migration(&actor.state).map_err(|reason| NodeError::Migration {
                            function: schema.type_name.clone(),
                            actor: actor.address.to_string(),
                            reason,
                        })?;
                }
            }
        }
        Ok(())
    }
}
