export { hasCjk, keywordQuery, normalise, termsOf } from './tokenizer';
export { matchRanges, type MatchRange } from './match-ranges';
