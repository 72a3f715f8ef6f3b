"""GBCS codec: APDU framing, General Signing/Ciphering, DLMS/COSEM and ZigBee payloads, MACs."""
