from l: ; el

m.from_pretrained("")