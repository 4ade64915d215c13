//! `#[handlers]` on an inherent impl block: the `Handlers` impl that
//! dispatches a type-erased message to the method taking its type.

use std::collections::hash_map::{Entry, HashMap};

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Ident, ImplItem, Item, ItemImpl, Type};

use crate::errors::Errors;
use crate::method::{self, Handler, SIGNATURE};
use crate::{schema, target};

/// Expands `#[handlers(args)] item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.spanned(
            &args,
            "#[handlers] takes no arguments: write `#[handlers]`, and rename a message with \
             `#[message(name = \"…\")]` on its handler",
        );
    }
    let mut item: Item = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(error) => {
            let error = error.to_compile_error();
            return quote!(#error #item);
        }
    };
    let Item::Impl(block) = &mut item else {
        let (kind, span) = target::describe(&item);
        errors.at(
            span,
            format!(
                "#[handlers] goes on an inherent impl block, not on {kind}: \
                 `#[handlers] impl Account {{ {SIGNATURE} {{ … }} }}`"
            ),
        );
        let errors = errors.to_compile_errors();
        return quote!(#errors #item);
    };
    let non_generic = check_header(block, &mut errors);
    // A trait impl's methods are the trait's, not handlers: checking them
    // would only repeat the error about the impl.
    let handlers = if block.trait_.is_none() {
        check_items(block, &mut errors)
    } else {
        Vec::new()
    };
    check_duplicates(&handlers, &mut errors);
    let generated = if errors.is_empty() {
        Some(impl_handlers(&block.self_ty, &handlers))
    } else if non_generic {
        Some(fallback(&block.self_ty))
    } else {
        None
    };
    let errors = errors.to_compile_errors();
    let mut tokens = quote!(#errors #block);
    if let Some(generated) = generated {
        quote!(const _: () = { #generated };).to_tokens(&mut tokens);
    }
    tokens
}

/// Records an error for a trait impl or a generic impl; returns whether the
/// impl has no generics (so a fallback `Handlers` impl can name its type).
fn check_header(block: &ItemImpl, errors: &mut Errors) -> bool {
    let self_name = type_name(&block.self_ty);
    if let Some((negation, path, for_token)) = &block.trait_ {
        errors.spanned(
            quote!(#negation #path #for_token),
            format!(
                "#[handlers] goes on an inherent impl block, not a trait impl: \
                 `#[handlers] impl {self_name} {{ {SIGNATURE} {{ … }} }}`"
            ),
        );
    }
    let message = format!(
        "a #[handlers] impl cannot be generic: a stateful function is one concrete type; \
         remove the parameters: `#[handlers] impl {self_name} {{ … }}`"
    );
    target::reject_generics(&block.generics, message, errors)
}

/// Checks every item of the impl, strips the `#[message]` helpers, and
/// returns the valid handlers.
fn check_items(block: &mut ItemImpl, errors: &mut Errors) -> Vec<Handler> {
    if block.items.is_empty() {
        errors.at(
            block.brace_token.span.join(),
            format!(
                "this #[handlers] impl has no handlers: add one per message type, \
                 `{SIGNATURE} {{ … }}`"
            ),
        );
    }
    let self_name = type_name(&block.self_ty);
    let mut handlers = Vec::new();
    for item in &mut block.items {
        let (kind, span) = match item {
            ImplItem::Fn(function) => {
                handlers.extend(method::handler(function, errors));
                continue;
            }
            ImplItem::Type(item) => {
                errors.spanned(
                    item.type_token,
                    format!(
                        "every item of a #[handlers] impl is a handler, and an associated type \
                         is not one (nor allowed in any inherent impl): declare \
                         `type {} = …;` outside the impl",
                        item.ident
                    ),
                );
                continue;
            }
            ImplItem::Const(item) => ("a constant", item.const_token.span),
            ImplItem::Macro(item) => ("a macro invocation", item.mac.path.span()),
            other => ("this item", other.span()),
        };
        errors.at(
            span,
            format!(
                "every item of a #[handlers] impl is a handler, and {kind} is not one: \
                 helpers belong in a separate `impl {self_name} {{ … }}` block"
            ),
        );
    }
    // An associated type is an error in any inherent impl; emitting it would
    // repeat the error above.
    block
        .items
        .retain(|item| !matches!(item, ImplItem::Type(_)));
    handlers
}

/// Records an error for a message type taken by two handlers, and for two
/// message types registered under the same name.
fn check_duplicates(handlers: &[Handler], errors: &mut Errors) {
    let mut by_type: HashMap<String, &Ident> = HashMap::new();
    let mut by_name: HashMap<String, &Handler> = HashMap::new();
    for handler in handlers {
        let key = schema::canonical_tokens(handler.message.to_token_stream());
        match by_type.entry(key) {
            Entry::Occupied(first) => {
                errors.spanned(
                    &handler.message,
                    format!(
                        "`{}` already has a handler, `{}`: one handler per message type; \
                         merge the two, or wrap one in a new message type",
                        type_text(&handler.message),
                        first.get()
                    ),
                );
                continue;
            }
            Entry::Vacant(vacant) => {
                vacant.insert(&handler.method);
            }
        }
        match by_name.entry(handler.name.value()) {
            Entry::Occupied(first) => errors.spanned(
                if handler.renamed {
                    handler.name.to_token_stream()
                } else {
                    handler.message.to_token_stream()
                },
                format!(
                    "two message types are named \"{}\": `{}` (handler `{}`) and `{}`; \
                     give this one its own name with `#[message(name = \"…\")]` on its handler",
                    first.key(),
                    type_text(&first.get().message),
                    first.get().method,
                    type_text(&handler.message)
                ),
            ),
            Entry::Vacant(vacant) => {
                vacant.insert(handler);
            }
        }
    }
}

/// The `Handlers` impl: try each handler's type in turn, and give the
/// payload back if none takes it.
fn impl_handlers(self_ty: &Type, handlers: &[Handler]) -> TokenStream {
    let ctx = Ident::new("ctx", Span::mixed_site());
    let message = Ident::new("message", Span::mixed_site());
    let typed = Ident::new("typed", Span::mixed_site());
    let arms = handlers.iter().map(|handler| {
        let Handler {
            method,
            access,
            message: ty,
            ..
        } = handler;
        let downcast = quote_spanned!(ty.span()=> #message.downcast::<#ty>());
        quote! {
            let #message = match #downcast {
                ::core::result::Result::Ok(#typed) => {
                    Self::#method(self, #ctx, #typed);
                    return ::core::result::Result::Ok(::cairn::Access::#access);
                }
                ::core::result::Result::Err(#message) => #message,
            };
        }
    });
    let entries = handlers.iter().map(|handler| {
        let Handler {
            message: ty, name, ..
        } = handler;
        quote_spanned!(ty.span()=> ::cairn::MessageType::of::<#ty>(#name))
    });
    quote! {
        #[automatically_derived]
        impl ::cairn::Handlers for #self_ty {
            fn handle(
                &mut self,
                #ctx: &mut ::cairn::Context<'_>,
                #message: ::cairn::Payload,
            ) -> ::core::result::Result<::cairn::Access, ::cairn::Payload> {
                #(#arms)*
                ::core::result::Result::Err(#message)
            }

            fn message_types() -> ::std::vec::Vec<::cairn::MessageType> {
                ::std::vec![#(#entries),*]
            }
        }
    }
}

/// A `Handlers` impl with no handlers, emitted after an error so that the
/// `StatefulFunction` impl of the type does not add a second error.
fn fallback(self_ty: &Type) -> TokenStream {
    quote! {
        #[automatically_derived]
        impl ::cairn::Handlers for #self_ty {
            fn handle(
                &mut self,
                _: &mut ::cairn::Context<'_>,
                message: ::cairn::Payload,
            ) -> ::core::result::Result<::cairn::Access, ::cairn::Payload> {
                ::core::result::Result::Err(message)
            }

            fn message_types() -> ::std::vec::Vec<::cairn::MessageType> {
                ::std::vec::Vec::new()
            }
        }
    }
}

/// `ty` as written, without the spaces token printing adds around `<` and `::`.
fn type_text(ty: &Type) -> String {
    let mut text = ty.to_token_stream().to_string();
    for (spaced, tight) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        (" >", ">"),
        (" ,", ","),
    ] {
        text = text.replace(spaced, tight);
    }
    text
}

/// The name of the impl's type for messages: its last path segment without
/// generic arguments (`Account` for `crate::Account<T>`).
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .map_or_else(|| type_text(ty), |last| last.ident.to_string()),
        _ => type_text(ty),
    }
}
