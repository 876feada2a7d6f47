// Public surface of @ocrops/sweep.
export {};
