print("trustpay-webhooks")
