import ArgumentParser

@main
struct TrustPayWebhooks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trustpay-webhooks",
        abstract: "Receives TrustPay callbacks, verifies and de-duplicates them, and hands them to your code.",
        subcommands: [Serve.self, CheckConfig.self, Send.self, Sign.self, Verify.self, Events.self, Simulate.self],
        defaultSubcommand: Serve.self)
}
