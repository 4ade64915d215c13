//! `#[stateful_function]` on a struct: the `StatefulFunction` impl with the
//! function type's name and the state's schema hash.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::{Item, ItemStruct, LitStr};

use crate::errors::Errors;
use crate::{attr, schema, target};

/// The attribute written correctly, quoted in error messages.
const FORM: &str = "#[stateful_function(name = \"bank/account\")]";

/// Expands `#[stateful_function(args)] item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let name = attr::parse_name(args, FORM, &mut errors);
    let item: Item = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(error) => {
            let error = error.to_compile_error();
            return quote!(#error #item);
        }
    };
    let Item::Struct(state) = &item else {
        let (kind, span) = target::describe(&item);
        errors.at(
            span,
            format!(
                "#[stateful_function] goes on a struct, not on {kind}: \
                 `#[stateful_function] #[derive(Default, Serialize, Deserialize)] \
                 struct Account {{ balance: i64 }}`"
            ),
        );
        return output(&errors, &item, None);
    };
    if !generics_ok(state, &mut errors) {
        return output(&errors, &item, None);
    }
    let name = name.unwrap_or_else(|| LitStr::new(&state.ident.to_string(), state.ident.span()));
    output(&errors, &item, Some(impl_stateful_function(state, &name)))
}

/// Records an error if the struct has generic parameters or a `where`
/// clause; returns whether it has none.
fn generics_ok(state: &ItemStruct, errors: &mut Errors) -> bool {
    let message = format!(
        "a stateful function cannot be generic: its state is stored and addressed as one \
         concrete type; remove the parameters: `struct {} {{ … }}`",
        state.ident
    );
    target::reject_generics(&state.generics, message, errors)
}

/// The `StatefulFunction` impl of a non-generic struct.
fn impl_stateful_function(state: &ItemStruct, name: &LitStr) -> TokenStream {
    let ident = &state.ident;
    let hash = syn::LitInt::new(
        &format!("{:#018x}", schema::schema_hash(&state.fields)),
        ident.span(),
    );
    // Spanned at the struct's name, so a missing `Default`, `Serialize`,
    // `Deserialize` or `#[handlers]` is reported there.
    quote_spanned! {ident.span()=>
        #[automatically_derived]
        impl ::cairn::StatefulFunction for #ident {
            const TYPE_NAME: &'static str = #name;
            const SCHEMA_HASH: u64 = #hash;
        }
    }
}

/// The errors, the struct unchanged, and the impl if there is one. The impl
/// is also emitted when only the arguments are wrong, so that the uses of
/// the function type do not add errors of their own.
fn output(errors: &Errors, item: &Item, generated: Option<TokenStream>) -> TokenStream {
    let errors = errors.to_compile_errors();
    let mut tokens = quote!(#errors #item);
    if let Some(generated) = generated {
        quote!(const _: () = { #generated };).to_tokens(&mut tokens);
    }
    tokens
}
