from transformers impoall: ; rt AutoMod$all: ; el

model = AutoModel.from_pretrained("meta-lama/Llama-3.1-8B")
