//! One method of a `#[handlers]` impl: checking its signature and reading
//! the message it takes.

use proc_macro2::Span;
use quote::quote;
use syn::spanned::Spanned;
use syn::{
    FnArg, GenericArgument, Ident, ImplItemFn, LitStr, Meta, PatType, PathArguments, ReturnType,
    Type,
};

use crate::errors::Errors;
use crate::{attr, target};

/// The signature every handler has, quoted in error messages.
pub(crate) const SIGNATURE: &str = "fn name(&mut self, ctx: &mut Context, msg: Message)";

/// The helper attribute written correctly, quoted in error messages.
const MESSAGE_FORM: &str = "#[message(name = \"debit\")]";

/// A valid handler: a method and the message type it takes.
pub(crate) struct Handler {
    /// The method's name.
    pub(crate) method: Ident,
    /// The path of `Access` the receiver implies: `Read` or `Write`.
    pub(crate) access: Ident,
    /// The message type.
    pub(crate) message: Type,
    /// The name the message type is registered under.
    pub(crate) name: LitStr,
    /// Whether the name comes from `#[message(name = "…")]` rather than
    /// from the type.
    pub(crate) renamed: bool,
}

/// Checks `method` as a handler, recording every mistake in `errors`, and
/// removes its `#[message(…)]` helpers. Returns the handler if the method
/// is a valid one.
pub(crate) fn handler(method: &mut ImplItemFn, errors: &mut Errors) -> Option<Handler> {
    let explicit_name = take_message_name(method, errors);
    let mut valid = explicit_name.is_ok();
    // Dropped from the emitted method too: an `async fn` taking `&mut Context`
    // would add a lifetime error of its own.
    if let Some(token) = method.sig.asyncness.take() {
        errors.spanned(
            token,
            format!(
                "handlers are synchronous: no .await inside a handler, so that snapshots are \
                 consistent; remove `async`: `{SIGNATURE}`"
            ),
        );
        valid = false;
    }
    let sig = &method.sig;
    if let Some(token) = &sig.unsafety {
        errors.spanned(
            token,
            format!("handlers cannot be `unsafe`: remove it, `{SIGNATURE}`"),
        );
        valid = false;
    }
    valid &= target::reject_generics(&sig.generics, generic_message(), errors);
    valid &= return_ok(&sig.output, errors);
    let access = receiver_access(method, errors);
    let params: Vec<&PatType> = sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(param) => Some(param),
            FnArg::Receiver(_) => None,
        })
        .collect();
    if params.len() != 2 {
        let found = params.len();
        let message = format!(
            "a handler takes the context and one message after `self`, found {found} \
             parameter{}: `{SIGNATURE}`",
            if found == 1 { "" } else { "s" }
        );
        match params.get(2..) {
            Some(extra) => errors.spanned(quote!(#(#extra),*), message),
            None => errors.at(sig.paren_token.span.join(), message),
        }
        valid = false;
    }
    if let [ctx, _] = params[..] {
        if !is_context(&ctx.ty) {
            errors.spanned(
                &ctx.ty,
                format!(
                    "a handler's first parameter after `self` is the context, `ctx: &mut Context`: \
                     `{SIGNATURE}`"
                ),
            );
            valid = false;
        }
    }
    let message = params.get(1).map(|param| (*param.ty).clone());
    if let Some(Type::ImplTrait(impl_trait)) = &message {
        errors.spanned(impl_trait, generic_message());
        valid = false;
    }
    let (Some(access), Some(message), true) = (access, message, valid) else {
        return None;
    };
    let explicit_name = explicit_name.ok().flatten();
    let renamed = explicit_name.is_some();
    let name = match explicit_name.or_else(|| default_name(&message)) {
        Some(name) => name,
        None => {
            errors.spanned(
                &message,
                format!(
                    "this message type has no name to register it under: name it with \
                     `{MESSAGE_FORM}` on the handler, or use a named type (a struct or enum)"
                ),
            );
            return None;
        }
    };
    Some(Handler {
        method: sig.ident.clone(),
        access,
        message,
        name,
        renamed,
    })
}

/// Removes the `#[message(…)]` helpers from the method and returns the name
/// they give; records malformed ones and returns `Err` if there are any.
fn take_message_name(method: &mut ImplItemFn, errors: &mut Errors) -> Result<Option<LitStr>, ()> {
    let before = errors.len();
    let (helpers, others) = std::mem::take(&mut method.attrs)
        .into_iter()
        .partition::<Vec<_>, _>(|attribute| attribute.path().is_ident("message"));
    method.attrs = others;
    let mut name = None;
    for helper in &helpers {
        let Meta::List(list) = &helper.meta else {
            errors.spanned(
                helper,
                format!("write the message's name as `{MESSAGE_FORM}`"),
            );
            continue;
        };
        if name.is_some() {
            errors.spanned(
                helper,
                format!("a second `#[message]`: give one, as in `{MESSAGE_FORM}`"),
            );
            continue;
        }
        if list.tokens.is_empty() {
            errors.spanned(
                helper,
                format!("`#[message]` needs the message's name: `{MESSAGE_FORM}`"),
            );
            continue;
        }
        name = attr::parse_name(list.tokens.clone(), MESSAGE_FORM, errors);
    }
    if errors.len() == before {
        Ok(name)
    } else {
        Err(())
    }
}

/// `Read` for `&self`, `Write` for `&mut self` (or `self: &Self` and
/// `self: &mut Self`); records an error for any other receiver.
fn receiver_access(method: &ImplItemFn, errors: &mut Errors) -> Option<Ident> {
    let sig = &method.sig;
    let receiver = sig.receiver();
    if let Some(receiver) = receiver {
        if let Type::Reference(reference) = &*receiver.ty {
            if is_self(&reference.elem) {
                let access = if reference.mutability.is_some() {
                    "Write"
                } else {
                    "Read"
                };
                return Some(Ident::new(access, Span::call_site()));
            }
        }
    }
    let message = format!(
        "a handler takes `&mut self` to change the state or `&self` to read it: `{SIGNATURE}`"
    );
    match receiver {
        Some(receiver) => errors.spanned(receiver, message),
        None => errors.at(sig.paren_token.span.join(), message),
    }
    None
}

/// Whether `ty` is `Self`.
fn is_self(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none() && path.path.is_ident("Self"))
}

/// Whether `ty` is `&mut Context`, `&mut Context<'_>` or a path to either.
fn is_context(ty: &Type) -> bool {
    let Type::Reference(reference) = ty else {
        return false;
    };
    let Type::Path(path) = &*reference.elem else {
        return false;
    };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    let lifetimes_only = match &last.arguments {
        PathArguments::None => true,
        PathArguments::AngleBracketed(arguments) => arguments
            .args
            .iter()
            .all(|argument| matches!(argument, GenericArgument::Lifetime(_))),
        PathArguments::Parenthesized(_) => false,
    };
    reference.mutability.is_some()
        && path.qself.is_none()
        && last.ident == "Context"
        && lifetimes_only
}

/// The message for a generic handler.
fn generic_message() -> String {
    format!(
        "handlers cannot be generic: each handler takes one concrete message type, which the \
         runtime registers by name; write one handler per type: `{SIGNATURE}`"
    )
}

/// Records an error unless the method returns `()`; returns whether it does.
fn return_ok(output: &ReturnType, errors: &mut Errors) -> bool {
    match output {
        ReturnType::Default => true,
        ReturnType::Type(_, ty) if matches!(&**ty, Type::Tuple(tuple) if tuple.elems.is_empty()) => {
            true
        }
        ReturnType::Type(..) => {
            errors.spanned(
                output,
                format!(
                    "handlers return nothing; answer with `ctx.reply(…)`: remove the return \
                     type, `{SIGNATURE}`"
                ),
            );
            false
        }
    }
}

/// The last path segment's ident of `ty`, as a string literal spanned at
/// the type: `Debit` for `crate::msgs::Debit`, `Vec` for `Vec<u8>`.
fn default_name(ty: &Type) -> Option<LitStr> {
    let Type::Path(path) = ty else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    Some(LitStr::new(&last.ident.to_string(), ty.span()))
}
