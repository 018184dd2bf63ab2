#ifndef TIDE_REGISTRY_REALM_POLICY_H_
#define TIDE_REGISTRY_REALM_POLICY_H_

#include <string_view>

#include "absl/status/status.h"
#include "registry/hosts_config.h"

namespace tide::registry {

// Whether the credentials configured for `host` (a password or an identity token) may be sent to
// the token realm a bearer challenge of that host named. The registry picks the realm, so a
// malicious or spoofed registry picks where the secrets go:
//
//  - containerd's docker authorizer sends the endpoint's credentials to any realm, over any scheme,
//    and relies on TLS to the registry for the realm's authenticity; distribution's client does the
//    same with the credentials it looks up for the realm's URL. Both keep a bearer token on the
//    registry host and drop Authorization on redirects to other hosts (Go's client does that).
//  - tide is stricter on plain HTTP: an https realm may be on any host (as in containerd: the
//    secret travels encrypted to a server with a valid certificate), but an http realm only gets
//    credentials when it is on the very host name the credentials are configured for and that host
//    is itself configured for plain HTTP (so nothing travels in clear that did not already).
//    Ports are not compared: the host owns all of them, and Go's redirect rule ignores them too.
//
// OK when allowed; Unauthenticated naming host and realm (never the secret) otherwise, and for a
// realm that is not an http(s) URL or carries user information.
absl::Status CheckRealmMayReceiveCredentials(const RegistryHost& host, std::string_view realm);

}  // namespace tide::registry

#endif  // TIDE_REGISTRY_REALM_POLICY_H_
