"""DUIS XML: safe parsing, XSD validation, XMLDSig, the SRV catalogue, response building."""
