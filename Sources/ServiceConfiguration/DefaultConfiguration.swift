extension ServiceSettings {
    /// `config/default.yaml`, compiled in so the binary runs anywhere with no
    /// files beside it. A test keeps the two identical.
    package static let defaultYAML = """
        # trustpay-webhooks: the embedded defaults. `trustpay-webhooks serve` with no
        # --config runs exactly this. Every key is explained in config/README.md.
        server:
          host: 127.0.0.1
          port: 8080

        store:
          kind: sqlite
          sqlite:
            path: data/trustpay-webhooks.sqlite
            synchronous: full

        # The demo merchant: the id in TrustPay's own examples. Its secret comes from
        # TRUSTPAY_SECRET; when that is unset the development secret below is used
        # and the server warns about it at start. Never run production like that.
        merchants:
          - id: 8820250900009
            secrets:
              - env: TRUSTPAY_SECRET
                development_fallback: trustpay-webhooks-development-secret

        routes:
          payment:
            path: /trustpay/payment
            dispatch: after-store
          cards:
            - path: /trustpay/card
              merchant: 8820250900009
          risk_control:
            path: /trustpay/risk-control
            deadline: 2s
            decision: unavailable

        handlers:
          - type: log

        """
}
