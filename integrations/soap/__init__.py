"""The SOAP door (spyne): contacts, companies and deals at /soap/, its WSDL at /soap/?wsdl."""
