// TrustPay's wire format: callbacks, signatures and amounts. Knows nothing of sockets.
//
// JSON/       a strict reader that keeps number literals and member order; a compact writer
// Money/      exact amounts and the one number-literal grammar everything shares
// Signature/  the MD5 canonical string, verification with secret rotation, diagnosis, signing
// Callbacks/  typed payment, card and risk-control bodies, decoded from the raw bytes
// Authenticity/  the one way a body becomes an authentic callback: the signed-content
//             rules, the signature, and the round trip from typed fields to signed text
