// TrustPay's wire format: callbacks, signatures and amounts. Knows nothing of sockets.
