/**
 * A self-signed certificate for 127.0.0.1/localhost (ECDSA P-256, valid until 2125), used only by kube-sim's TLS
 * side. kubectl never sends a bearer token over plain http (kubernetes/kubectl#744), so the kubeconfig points it at
 * https on the same port; the kubeconfig skips verification, so the certificate only has to exist.
 */
export const SIM_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBmDCCAT+gAwIBAgIUHAHgxEzgyq0ZWlQJZli+LQBye44wCgYIKoZIzj0EAwIw
EzERMA8GA1UEAwwIa3ViZS1zaW0wIBcNMjYxMTI1MTI0NjE4WhgPMjEyNjExMDEx
MjQ2MThaMBMxETAPBgNVBAMMCGt1YmUtc2ltMFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAEIf9MPVyi8Se4dNn+KJfP4GRNG5/I1ud9JY36x6bHrZpIlRHiVYd6hizy
wlrGrMd65V+fwHQg8aE73SeToxs/oaNvMG0wHQYDVR0OBBYEFNmLGJA55o0J9DIX
j5MkwDyLct+OMB8GA1UdIwQYMBaAFNmLGJA55o0J9DIXj5MkwDyLct+OMA8GA1Ud
EwEB/wQFMAMBAf8wGgYDVR0RBBMwEYcEfwAAAYIJbG9jYWxob3N0MAoGCCqGSM49
BAMCA0cAMEQCIHQqlhoH/5Z21TnBECvCMBCPtthrc5ZOXo19FOoIhX9GAiBM/XcK
zxKXaySAK1z4Sra8YGL0VSqc2JtcKBoWQZ0bgA==
-----END CERTIFICATE-----
`;

export const SIM_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzMu8QCgW7nSCe4IH
0i+lN30ewY1iGvhUi4DTTSTC+ZqhRANCAAQh/0w9XKLxJ7h02f4ol8/gZE0bn8jW
530ljfrHpsetmkiVEeJVh3qGLPLCWsasx3rlX5/AdCDxoTvdJ5OjGz+h
-----END PRIVATE KEY-----
`;
