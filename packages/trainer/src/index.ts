// Public surface of @ocrops/trainer.
export {};
