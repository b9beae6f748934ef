// Package admission is the API server's admission chain: plugins that may change
// (mutate) and then accept or refuse (validate) every create, update and delete,
// as upstream's --enable-admission-plugins chain does.
//
// A write passes the chain twice. The mutating phase (Admit) runs after the body
// is decoded and defaulted and before the kind's strategy prepares and validates
// the object; the validating phase (Validate) runs after that validation, just
// before the object is stored. A delete is admitted before the object is read
// (mutating) and once it has been read (validating, with the old object).
// Plugins run in one fixed order, upstream's (see package plugins), in each
// phase.
//
// The chain works out once per resource, subresource and operation which
// plugins act there, so a request no plugin handles costs a map lookup.
//
// Each plugin is a package of its own beside this one; package plugins holds
// the ordered list and builds the chain.
package admission
