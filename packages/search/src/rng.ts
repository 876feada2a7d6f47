// The search algorithms draw from the repository's one seeded generator (@ocrops/common).
export { Rng, mixSeed } from '@ocrops/common';
