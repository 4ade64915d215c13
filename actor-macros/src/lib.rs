//! The `#[stateful_function]` and `#[handlers]` attributes of Cairn.
//!
//! Applications do not depend on this crate directly: `cairn` re-exports
//! both attributes. The generated code names everything through absolute
//! `::cairn::…` paths, so the crate using the attributes must depend on
//! `cairn` under that name (not renamed, and not only on `cairn-core`).
//!
//! ```
//! use cairn::{handlers, stateful_function, Context};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! pub struct Debit {
//!     amount: i64,
//! }
//!
//! #[derive(Serialize, Deserialize)]
//! pub struct GetBalance;
//!
//! #[stateful_function(name = "bank/account")]
//! #[derive(Default, Serialize, Deserialize)]
//! pub struct Account {
//!     balance: i64,
//! }
//!
//! #[handlers]
//! impl Account {
//!     fn debit(&mut self, _ctx: &mut Context, msg: Debit) {
//!         self.balance -= msg.amount;
//!     }
//!
//!     #[message(name = "balance")]
//!     fn balance(&self, ctx: &mut Context, _msg: GetBalance) {
//!         ctx.reply(self.balance);
//!     }
//! }
//!
//! assert_eq!(<Account as cairn::StatefulFunction>::TYPE_NAME, "bank/account");
//! ```
//!
//! Each attribute parses its item, checks it while collecting every mistake
//! (each reported at its own span, saying what the right form is), and only
//! then expands. After a mistake the item is still emitted unchanged,
//! together with a placeholder trait impl when the type allows one, so that
//! one mistake gives one message. Generated impls sit in `const _: () = { … };`
//! and are marked `#[automatically_derived]`.
//!
//! # Layout
//! - `function`: `#[stateful_function]` on a struct, the `StatefulFunction` impl.
//! - `schema`: the schema hash of the state, and the canonical printing of tokens.
//! - `handlers`: `#[handlers]` on an impl block, the `Handlers` impl.
//! - `method`: one handler method: its signature and its message.
//! - `attr`: the `name = "…"` arguments of `#[stateful_function]` and `#[message]`.
//! - `target`: what an attribute was put on, for error messages, and the
//!   check that it is not generic.
//! - `errors`: collecting the errors of one macro call.

mod attr;
mod errors;
mod function;
mod handlers;
mod method;
mod schema;
mod target;

use proc_macro::TokenStream;

/// Makes a struct a stateful function: implements `cairn::StatefulFunction`
/// for it.
///
/// ```text
/// #[stateful_function]                          // type name "Account"
/// #[stateful_function(name = "bank/account")]   // type name "bank/account"
/// ```
///
/// The struct must derive (or implement) `Default`, `Serialize` and
/// `Deserialize`, have a `#[handlers]` impl block, and have no generic
/// parameters. Its fields are the actor's persisted state.
///
/// # Schema hash
///
/// `SCHEMA_HASH` is a 64-bit xxh3 of a canonical description of the fields,
/// computed when the macro runs; state stored under another hash is refused.
///
/// It changes when:
/// - a field is added, removed, renamed or moved;
/// - a field's type is written differently: another type, other generic
///   arguments, or the same type under another spelling (`String` and
///   `std::string::String`, or a type alias, count as different);
/// - the struct changes between named fields, a tuple struct and a unit struct.
///
/// It does not change with:
/// - whitespace, line breaks, comments and doc comments;
/// - attributes, including `#[serde(…)]` ones, and visibility;
/// - the struct's name, the function type's `name`, and the derives;
/// - the definitions of the fields' types: the hash sees a field's type as
///   written, so changing the fields of a struct used as a field's type does
///   not change it.
#[proc_macro_attribute]
pub fn stateful_function(args: TokenStream, item: TokenStream) -> TokenStream {
    function::expand(args.into(), item.into()).into()
}

/// Makes every method of an inherent impl block a message handler:
/// implements `cairn::Handlers` for the type.
///
/// Each method has the form
/// `fn name(&mut self, ctx: &mut Context, msg: Message)`: `&mut self` for a
/// handler that changes the state, `&self` for one that only reads it. A
/// handler returns nothing (it answers with `ctx.reply(…)`), is not `async`
/// (no `.await` inside a handler, so that snapshots are consistent) and not
/// generic. Helper methods, constants and types belong in a separate impl
/// block.
///
/// A message type is registered under the last segment of its path (`Debit`
/// for `crate::msgs::Debit`); `#[message(name = "debit")]` on the handler
/// registers it under another name. Two handlers cannot take the same type
/// or register the same name.
#[proc_macro_attribute]
pub fn handlers(args: TokenStream, item: TokenStream) -> TokenStream {
    handlers::expand(args.into(), item.into()).into()
}
