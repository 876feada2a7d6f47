// The data package draws from the repository's one seeded generator (@ocrops/common), unchanged in sequence: splits,
// augmentation and synthetic lines stay reproducible.
export { Rng, rngFor } from '@ocrops/common';
