//! Writing Xsi documents (default namespace, escaped text) and reading request bodies the
//! way a schema-validating XSP does: the root must be the expected element in the Xsi
//! namespace (any prefix), unknown elements are refused, `xsi:nil="true"` (any prefix bound
//! to XMLSchema-instance) clears a value, and an empty element where a value is required is
//! refused.

use crate::errors::XsiError;

/// The Xsi namespace.
pub const XSI_NS: &str = "http://schema.broadsoft.com/xsi";
/// The XML Schema instance namespace (`xsi:nil`).
pub const XSI_INSTANCE_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Escapes text for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Builds a document element by element.
#[derive(Default)]
pub struct Doc {
    out: String,
}

impl Doc {
    /// A document whose root is `root` in the Xsi namespace.
    pub fn new(root: &str) -> Self {
        Self {
            out: format!("<{root} xmlns=\"{XSI_NS}\">"),
        }
    }

    /// `<name>text</name>`.
    pub fn text(&mut self, name: &str, value: impl AsRef<str>) -> &mut Self {
        self.out
            .push_str(&format!("<{name}>{}</{name}>", escape(value.as_ref())));
        self
    }

    /// `<name>text</name>` or `<name xsi:nil="true"/>`.
    pub fn opt(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(name, v),
            None => self.nil(name),
        }
    }

    /// `<name xsi:nil="true"/>`.
    pub fn nil(&mut self, name: &str) -> &mut Self {
        self.out.push_str(&format!(
            "<{name} xsi:nil=\"true\" xmlns:xsi=\"{XSI_INSTANCE_NS}\"/>"
        ));
        self
    }

    /// `<name>true|false</name>`.
    pub fn boolean(&mut self, name: &str, value: bool) -> &mut Self {
        self.text(name, if value { "true" } else { "false" })
    }

    /// Opens `<name attrs>`.
    pub fn open(&mut self, name: &str) -> &mut Self {
        self.out.push_str(&format!("<{name}>"));
        self
    }

    /// Raw markup (already escaped).
    pub fn raw(&mut self, markup: &str) -> &mut Self {
        self.out.push_str(markup);
        self
    }

    /// Closes `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str(&format!("</{name}>"));
        self
    }

    /// The document with its XML declaration, closing `root`.
    pub fn finish(mut self, root: &str) -> String {
        self.out.push_str(&format!("</{root}>"));
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", self.out)
    }
}

/// What a request element holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `xsi:nil="true"`.
    Nil,
    /// Text content (trimmed).
    Text(String),
}

/// A parsed request element: its local name and its children.
pub struct Element<'a, 'input> {
    node: roxmltree::Node<'a, 'input>,
}

impl<'a, 'input> Element<'a, 'input> {
    /// The element's local name.
    pub fn name(&self) -> &str {
        self.node.tag_name().name()
    }

    /// Child elements (in the Xsi namespace or unqualified).
    pub fn children(&self) -> Vec<Element<'a, 'input>> {
        self.node
            .children()
            .filter(|n| n.is_element())
            .map(|node| Element { node })
            .collect()
    }

    /// Refuses children not in `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<(), XsiError> {
        for child in self.children() {
            if !allowed.contains(&child.name()) || !in_xsi_ns(child.node) {
                return Err(XsiError::schema(format!(
                    "element '{}' is not allowed in '{}'",
                    child.name(),
                    self.name()
                )));
            }
        }
        Ok(())
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<Element<'a, 'input>> {
        self.children().into_iter().find(|c| c.name() == name)
    }

    /// Every child named `name`.
    pub fn all(&self, name: &str) -> Vec<Element<'a, 'input>> {
        self.children()
            .into_iter()
            .filter(|c| c.name() == name)
            .collect()
    }

    /// Whether this element carries `xsi:nil="true"`.
    pub fn is_nil(&self) -> bool {
        self.node.attributes().any(|a| {
            a.namespace() == Some(XSI_INSTANCE_NS)
                && a.name() == "nil"
                && matches!(a.value(), "true" | "1")
        })
    }

    /// An attribute by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.node.attribute(name)
    }

    /// The value of child `name`: None when absent, Nil or Text. An empty, non-nil element
    /// is refused (a schema-validating server refuses it).
    pub fn value(&self, name: &str) -> Result<Option<Value>, XsiError> {
        let Some(child) = self.child(name) else {
            return Ok(None);
        };
        if child.is_nil() {
            return Ok(Some(Value::Nil));
        }
        if child.children().iter().any(|_| true) {
            return Err(XsiError::schema(format!("element '{name}' must hold text")));
        }
        let text = child.node.text().unwrap_or("").trim().to_owned();
        if text.is_empty() {
            return Err(XsiError::schema(format!(
                "element '{name}' is empty; use xsi:nil=\"true\" to clear a value"
            )));
        }
        Ok(Some(Value::Text(text)))
    }

    /// Child `name` as text, refusing nil.
    pub fn text(&self, name: &str) -> Result<Option<String>, XsiError> {
        match self.value(name)? {
            None => Ok(None),
            Some(Value::Text(t)) => Ok(Some(t)),
            Some(Value::Nil) => Err(XsiError::schema(format!("element '{name}' cannot be nil"))),
        }
    }

    /// Child `name` as a boolean.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, XsiError> {
        match self.text(name)?.as_deref() {
            None => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(other) => Err(XsiError::schema(format!(
                "'{other}' is not a boolean in '{name}'"
            ))),
        }
    }

    /// Child `name` as an integer.
    pub fn int(&self, name: &str) -> Result<Option<i64>, XsiError> {
        match self.text(name)? {
            None => Ok(None),
            Some(t) => t
                .parse()
                .map(Some)
                .map_err(|_| XsiError::schema(format!("'{t}' is not a number in '{name}'"))),
        }
    }
}

fn in_xsi_ns(node: roxmltree::Node<'_, '_>) -> bool {
    matches!(node.tag_name().namespace(), Some(XSI_NS) | None)
}

/// Parses `body` and checks that its root is `root` in the Xsi namespace.
pub fn parse(body: &str) -> Result<roxmltree::Document<'_>, XsiError> {
    roxmltree::Document::parse(body)
        .map_err(|e| XsiError::schema(format!("the request is not well-formed XML: {e}")))
}

/// The root element of `doc`, which must be `root`.
pub fn root<'a, 'input>(
    doc: &'a roxmltree::Document<'input>,
    root: &str,
) -> Result<Element<'a, 'input>, XsiError> {
    let node = doc.root_element();
    if node.tag_name().name() != root || node.tag_name().namespace() != Some(XSI_NS) {
        return Err(XsiError::schema(format!(
            "expected a '{root}' document in namespace {XSI_NS}, got '{}'",
            node.tag_name().name()
        )));
    }
    Ok(Element { node })
}
